"""The ledger proper: append-only movements and the balances materialized from them."""
