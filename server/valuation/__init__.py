"""Inventory valuation: FIFO and moving-average cost of one SKU replayed from its events."""
