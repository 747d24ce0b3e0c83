"""Purchasing: purchase orders and what has been received against them."""
