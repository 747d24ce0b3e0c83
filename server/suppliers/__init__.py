"""Suppliers: who a purchase order goes to, their lead time and currency."""
