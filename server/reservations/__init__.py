"""Reservations from channel orders, safety stock and what is available to promise."""
