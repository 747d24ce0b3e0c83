"""The location tree (site → warehouse → zone → bin), its rules, rolled-up stock and the
per-location negative-stock policy."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from server.cli import add_commands
from tests.server.support import ADMIN, Api

EAN_PHC = "5901234123457"
EAN_CLN = "09506000134352"


def put(api: Api, code: str, body: dict[str, Any], status: int = 200) -> Any:
    response = api.client.put(f"/v1/locations/{code}", json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    return response.json()


def build_tree(api: Api) -> None:
    """SITE1 > WH1 > (WH1-A > WH1-A-01, WH1-A-02; WH1-B > WH1-B-02; WH1-DOCK), WH2-A-01 alone."""
    api.seed()
    api.post("/v1/locations", {"code": "SITE1", "kind": "site"})
    api.post("/v1/locations", {"code": "WH1", "kind": "warehouse", "parent": "SITE1"})
    for zone in ("WH1-A", "WH1-B"):
        api.post("/v1/locations", {"code": zone, "kind": "zone", "parent": "WH1"})
    for code, zone in (("WH1-A-01", "WH1-A"), ("WH1-A-02", "WH1-A"), ("WH1-B-02", "WH1-B")):
        api.post("/v1/locations", {"code": code, "parent": zone})
    api.post("/v1/locations", {"code": "WH1-DOCK", "parent": "WH1"})


def stock_up(api: Api) -> None:
    api.scan("dock", EAN_PHC, "receive", "WH1-A-01", qty=5)
    api.scan("dock", EAN_PHC, "receive", "WH1-A-02", qty=3)
    api.scan("dock", EAN_CLN, "receive", "WH1-B-02", qty=2)
    api.scan("dock", EAN_PHC, "receive", "WH1-DOCK", qty=1)
    api.scan("dock", EAN_PHC, "receive", "WH2-A-01", qty=4)


def ledger_check(db_url: str) -> int:
    parser = argparse.ArgumentParser(prog="stockwire")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["ledger", "check", "--db", db_url])
    code: int = args.handler(args)
    return code


def shape(node: dict[str, Any]) -> tuple[Any, ...]:
    return (node["code"], node["kind"], node["on_hand"], node["stock"],
            [shape(c) for c in node["children"]])  # fmt: skip


def test_the_tree_nests_sites_warehouses_zones_and_bins_and_rolls_up_on_hand(api: Api) -> None:
    build_tree(api)
    stock_up(api)
    tree = api.get("/v1/locations/tree")["tree"]
    assert [shape(n) for n in tree] == [
        ("SITE1", "site", 11, {"CLN-200": 2, "PHC-01": 9}, [
            ("WH1", "warehouse", 11, {"CLN-200": 2, "PHC-01": 9}, [
                ("WH1-A", "zone", 8, {"PHC-01": 8}, [
                    ("WH1-A-01", "bin", 5, {"PHC-01": 5}, []),
                    ("WH1-A-02", "bin", 3, {"PHC-01": 3}, []),
                ]),
                ("WH1-B", "zone", 2, {"CLN-200": 2}, [
                    ("WH1-B-02", "bin", 2, {"CLN-200": 2}, []),
                ]),
                ("WH1-DOCK", "bin", 1, {"PHC-01": 1}, []),
            ]),
        ]),
        ("WH2-A-01", "bin", 4, {"PHC-01": 4}, []),
    ]  # fmt: skip
    only_cln = api.get("/v1/locations/tree", sku="CLN-200")["tree"]
    assert [(n["code"], n["on_hand"]) for n in only_cln] == [("SITE1", 2), ("WH2-A-01", 0)]


def test_the_tree_with_virtual_locations_shows_transfers_under_in_transit(api: Api) -> None:
    build_tree(api)
    stock_up(api)
    api.scan("hs-1", EAN_PHC, "transfer-out", "WH1-A-01", ref="TR-1", qty=2)
    tree = {n["code"]: n for n in api.get("/v1/locations/tree", virtual="true")["tree"]}
    assert {"supplier", "customer", "quarantine", "inventory-loss"} <= set(tree)
    assert tree["supplier"]["on_hand"] == -15
    transit = tree["in-transit"]
    assert (transit["virtual"], transit["on_hand"]) == (True, 2)
    assert [(c["code"], c["stock"]) for c in transit["children"]] == [
        ("in-transit/TR-1", {"PHC-01": 2})
    ]
    assert tree["SITE1"]["on_hand"] == 9


def test_stock_under_a_node_sums_and_filters_its_descendants(api: Api) -> None:
    build_tree(api)
    stock_up(api)
    under_wh1 = api.get("/v1/stock", under="WH1")
    assert [(r["sku"], r["loc"], r["on_hand"]) for r in under_wh1["stock"]] == [
        ("CLN-200", "WH1-B-02", 2),
        ("PHC-01", "WH1-A-01", 5),
        ("PHC-01", "WH1-A-02", 3),
        ("PHC-01", "WH1-DOCK", 1),
    ]
    assert under_wh1["totals"] == [
        {"sku": "CLN-200", "on_hand": 2, "reserved": 0, "available": 2},
        {"sku": "PHC-01", "on_hand": 9, "reserved": 0, "available": 9},
    ]
    zone = api.get("/v1/stock", under="WH1-A", sku="PHC-01")
    assert zone["totals"] == [{"sku": "PHC-01", "on_hand": 8, "reserved": 0, "available": 8}]
    assert api.get("/v1/stock", under="WH2-A-01")["totals"][0]["on_hand"] == 4
    missing = api.client.get("/v1/stock", params={"under": "WH9"}, headers=ADMIN)
    assert (missing.status_code, missing.json()["reason"]) == (404, "unknown location")


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        ({"code": "S2", "kind": "site", "parent": "SITE1"}, "bad parent",
         "a site is a root of the tree: it has no parent (got 'SITE1')"),
        ({"code": "WH3", "kind": "warehouse"}, "bad parent",
         "a warehouse goes under a site: name its parent"),
        ({"code": "WH3", "kind": "warehouse", "parent": "WH1-A"}, "bad parent",
         "a warehouse goes under a site, and WH1-A is a zone"),
        ({"code": "WH1-C", "kind": "zone", "parent": "SITE1"}, "bad parent",
         "a zone goes under a warehouse, and SITE1 is a site"),
        ({"code": "WH1-A-09", "parent": "WH1-A-01"}, "bad parent",
         "a bin goes under a zone or warehouse, and WH1-A-01 is a bin"),
        ({"code": "Q-01", "parent": "quarantine"}, "bad parent",
         "Q-01 is a real location and cannot go under the virtual location quarantine"),
        ({"code": "WH1-A-09", "parent": "WH1-Z"}, "unknown location",
         "no parent location 'WH1-Z'"),
    ],
)  # fmt: skip
def test_a_location_that_does_not_fit_the_tree_is_refused_with_the_rule_it_breaks(
    api: Api, body: dict[str, Any], reason: str, detail: str
) -> None:
    build_tree(api)
    answer = api.post("/v1/locations", body, status=422)
    assert (answer["reason"], answer["detail"]) == (reason, f"{reason}: {detail}")
    assert body["code"] not in {row["code"] for row in api.get("/v1/locations")["locations"]}


def test_re_parenting_refuses_a_cycle(api: Api) -> None:
    build_tree(api)
    looped = put(api, "SITE1", {"parent": "WH1-A"}, status=422)
    assert looped["detail"] == (
        "bad parent: SITE1 cannot go under WH1-A, which is inside it: that would make a cycle"
    )
    itself = put(api, "WH1-A", {"parent": "WH1-A"}, status=422)
    assert itself["detail"] == "bad parent: WH1-A cannot go under itself: that would make a cycle"
    moved = put(api, "WH1-A-01", {"parent": "WH1-B"})
    assert (moved["parent"], moved["kind"]) == ("WH1-B", "bin")
    detached = put(api, "WH1-A-01", {"parent": None})
    assert detached["parent"] is None


def test_a_bin_without_a_parent_stays_allowed_and_re_posting_it_replaces_it(api: Api) -> None:
    api.seed()
    rows = {r["code"]: r for r in api.get("/v1/locations")["locations"]}
    assert rows["WH1-A-01"] == {"code": "WH1-A-01", "parent": None, "kind": "bin",
                                "virtual": False, "negative": "refuse"}  # fmt: skip
    api.post("/v1/locations", {"code": "WH1-A-01", "negative": "allow"})
    assert api.post("/v1/locations", {"code": "WH1-A-01"})["negative"] == "refuse"


def test_changing_a_kind_keeps_children_and_stock_where_they_fit(api: Api) -> None:
    build_tree(api)
    stock_up(api)
    zone_to_bin = put(api, "WH1-A", {"kind": "bin"}, status=422)
    assert zone_to_bin["detail"] == (
        "bad kind: WH1-A-01 (a bin) is under WH1-A, and a bin cannot go under a bin"
    )
    holding = put(api, "WH2-A-01", {"kind": "zone", "parent": "WH1"}, status=409)
    assert holding["detail"] == (
        "location holds stock: WH2-A-01 holds stock (4 units): only a bin holds stock, "
        "move it out before making it a zone"
    )
    empty = put(api, "WH1-B-02", {"kind": "zone"}, status=422)
    assert empty["detail"] == "bad parent: a zone goes under a warehouse, and WH1-B is a zone"
    api.post("/v1/locations", {"code": "WH1-C-01", "parent": "WH1"})
    assert put(api, "WH1-C-01", {"kind": "zone"})["kind"] == "zone"


def test_stock_is_booked_at_bins_only(api: Api) -> None:
    build_tree(api)
    result = api.scan("dock", EAN_PHC, "receive", "WH1-A")
    assert (result["status"], result["reason"], result["detail"]) == (
        "refused", "unknown location", "WH1-A is a zone: stock is booked at bins")  # fmt: skip
    manual = api.post("/v1/movements", {"kind": "receive", "sku": "PHC-01", "qty": 1,
                                        "loc": "WH1"}, status=422)  # fmt: skip
    assert manual["detail"] == "unknown location: WH1 is a warehouse: stock is booked at bins"


def test_put_answers_404_for_an_unknown_location_and_409_for_a_virtual_one(api: Api) -> None:
    api.seed()
    assert put(api, "WH9", {"negative": "allow"}, status=404)["reason"] == "unknown location"
    virtual = put(api, "quarantine", {"negative": "allow"}, status=409)
    assert (
        virtual["detail"] == "bad location: 'quarantine' is virtual: its place and policy are fixed"
    )
    unknown_field = put(api, "WH1-A-01", {"negative": "sometimes"}, status=422)
    assert unknown_field["reason"] == "invalid request"


def test_under_refuse_a_pick_beyond_stock_is_refused_and_nothing_moves(api: Api) -> None:
    api.seed()
    api.scan("dock", EAN_PHC, "receive", "WH1-A-01", qty=1)
    result = api.scan("hs-1", EAN_PHC, "pick", "WH1-A-01", qty=2)
    assert (result["reason"], result["detail"]) == (
        "insufficient stock", "2 asked, 1 at WH1-A-01")  # fmt: skip
    assert api.on_hand("PHC-01", "WH1-A-01") == 1


def test_under_allow_a_pick_beyond_stock_books_negative_and_is_flagged(
    api: Api, db_url: str
) -> None:
    api.seed()
    assert put(api, "WH1-A-01", {"negative": "allow"})["negative"] == "allow"
    api.scan("dock", EAN_PHC, "receive", "WH1-A-01", qty=1)
    assert api.scan("hs-1", EAN_PHC, "pick", "WH1-A-01", qty=3)["status"] == "booked"
    assert api.on_hand("PHC-01", "WH1-A-01") == -2
    flagged = api.get("/v1/movements", flagged="true")["movements"]
    assert [(m["kind"], m["from"], m["qty"], m["flags"]) for m in flagged] == [
        ("pick", "WH1-A-01", 2, "negative stock")
    ]
    picks = api.get("/v1/movements", kind="pick")["movements"]
    assert sorted((m["qty"], m["flags"]) for m in picks) == [(1, ""), (2, "negative stock")]
    manual = api.post("/v1/movements", {"kind": "pick", "sku": "PHC-01", "qty": 1,
                                        "loc": "WH1-A-01"})["movements"]  # fmt: skip
    assert [(m["qty"], m["flags"]) for m in manual] == [(1, "negative stock")]
    assert api.on_hand("PHC-01", "WH1-A-01") == -3
    assert ledger_check(db_url) == 0


def test_refuse_cannot_be_set_back_while_on_hand_is_below_zero(api: Api, db_url: str) -> None:
    api.seed()
    put(api, "WH1-A-01", {"negative": "allow"})
    api.scan("hs-1", EAN_PHC, "pick", "WH1-A-01", qty=2)
    blocked = put(api, "WH1-A-01", {"negative": "refuse"}, status=409)
    assert blocked["detail"] == (
        "negative stock: PHC-01 is at -2 at WH1-A-01: "
        "book the missing stock in before refusing negative stock here"
    )
    api.scan("dock", EAN_PHC, "receive", "WH1-A-01", qty=2)
    assert put(api, "WH1-A-01", {"negative": "refuse"})["negative"] == "refuse"
    assert api.scan("hs-1", EAN_PHC, "pick", "WH1-A-01")["reason"] == "insufficient stock"
    assert ledger_check(db_url) == 0
