"""Keyboard layouts a keyboard-wedge reader may type in, as data: key -> characters per level.

Owns the tables only. A key is named by its evdev code without `KEY_` (the US name of the
physical position: on a German keyboard KEY_Y types "z"); its levels are plain, Shift and AltGr
(right Alt), "" where the level types nothing. Dead keys (the accent keys, which wait for the
next key) are listed per layout as (key, level). Letters a-z and the numeric keypad are the
same position-for-position everywhere unless a layout says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from evdev import ecodes

Levels = tuple[str, ...]  # (plain, shift[, altgr]); "" = nothing on that level

_LETTERS: dict[str, Levels] = {c.upper(): (c, c.upper()) for c in "abcdefghijklmnopqrstuvwxyz"}
_COMMON: dict[str, Levels] = {
    **_LETTERS,
    "SPACE": (" ", " "), "TAB": ("\t", "\t"),
    **{f"KP{d}": (d, d) for d in "0123456789"},
    "KPASTERISK": ("*", "*"), "KPMINUS": ("-", "-"), "KPPLUS": ("+", "+"),
    "KPSLASH": ("/", "/"), "KPDOT": (".", "."),
}  # fmt: skip

US: dict[str, Levels] = {
    "1": ("1", "!"), "2": ("2", "@"), "3": ("3", "#"), "4": ("4", "$"), "5": ("5", "%"),
    "6": ("6", "^"), "7": ("7", "&"), "8": ("8", "*"), "9": ("9", "("), "0": ("0", ")"),
    "MINUS": ("-", "_"), "EQUAL": ("=", "+"), "LEFTBRACE": ("[", "{"), "RIGHTBRACE": ("]", "}"),
    "BACKSLASH": ("\\", "|"), "SEMICOLON": (";", ":"), "APOSTROPHE": ("'", '"'),
    "GRAVE": ("`", "~"), "COMMA": (",", "<"), "DOT": (".", ">"), "SLASH": ("/", "?"),
}  # fmt: skip

UK: dict[str, Levels] = {
    **US,
    "2": ("2", '"'), "3": ("3", "£"), "4": ("4", "$", "€"), "APOSTROPHE": ("'", "@"),
    "BACKSLASH": ("#", "~"), "102ND": ("\\", "|"), "GRAVE": ("`", "¬", "¦"),
}  # fmt: skip

DE: dict[str, Levels] = {  # QWERTZ
    "GRAVE": ("^", "°"), "1": ("1", "!"), "2": ("2", '"', "²"), "3": ("3", "§", "³"),
    "4": ("4", "$"), "5": ("5", "%"), "6": ("6", "&"), "7": ("7", "/", "{"),
    "8": ("8", "(", "["), "9": ("9", ")", "]"), "0": ("0", "=", "}"),
    "MINUS": ("ß", "?", "\\"), "EQUAL": ("´", "`"),
    "Q": ("q", "Q", "@"), "E": ("e", "E", "€"), "Y": ("z", "Z"), "Z": ("y", "Y"),
    "LEFTBRACE": ("ü", "Ü"), "RIGHTBRACE": ("+", "*", "~"),
    "SEMICOLON": ("ö", "Ö"), "APOSTROPHE": ("ä", "Ä"), "BACKSLASH": ("#", "'"),
    "102ND": ("<", ">", "|"), "M": ("m", "M", "µ"),
    "COMMA": (",", ";"), "DOT": (".", ":"), "SLASH": ("-", "_"),
}  # fmt: skip

FR: dict[str, Levels] = {  # AZERTY
    "GRAVE": ("²", ""), "1": ("&", "1"), "2": ("é", "2", "~"), "3": ('"', "3", "#"),
    "4": ("'", "4", "{"), "5": ("(", "5", "["), "6": ("-", "6", "|"), "7": ("è", "7", "`"),
    "8": ("_", "8", "\\"), "9": ("ç", "9", "^"), "0": ("à", "0", "@"),
    "MINUS": (")", "°", "]"), "EQUAL": ("=", "+", "}"),
    "Q": ("a", "A"), "W": ("z", "Z"), "E": ("e", "E", "€"), "A": ("q", "Q"),
    "SEMICOLON": ("m", "M"), "Z": ("w", "W"), "M": (",", "?"),
    "LEFTBRACE": ("^", "¨"), "RIGHTBRACE": ("$", "£", "¤"),
    "APOSTROPHE": ("ù", "%"), "BACKSLASH": ("*", "µ"), "102ND": ("<", ">"),
    "COMMA": (";", "."), "DOT": (":", "/"), "SLASH": ("!", "§"),
}  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """One layout resolved to evdev codes: code -> levels, and the dead (code, level)s."""

    name: str
    keys: dict[int, Levels]
    dead: frozenset[tuple[int, int]] = frozenset()

    @property
    def has_altgr(self) -> bool:
        return any(len(levels) > 2 and levels[2] for levels in self.keys.values())


def _build(name: str, table: dict[str, Levels], dead: set[tuple[str, int]]) -> Layout:
    keys = {getattr(ecodes, f"KEY_{k}"): v for k, v in {**_COMMON, **table}.items()}
    dead_codes = frozenset((getattr(ecodes, f"KEY_{k}"), level) for k, level in dead)
    return Layout(name, keys, dead_codes)


LAYOUTS: dict[str, Layout] = {
    "us": _build("us", US, set()),
    "uk": _build("uk", UK, set()),
    "de": _build("de", DE, {("GRAVE", 0), ("EQUAL", 0), ("EQUAL", 1)}),
    "fr": _build("fr", FR, {("LEFTBRACE", 0), ("LEFTBRACE", 1), ("2", 2), ("7", 2)}),
}
