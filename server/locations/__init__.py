"""Locations: the tree of real ones (site → warehouse → zone → bin) and the virtual ends of
every movement (supplier, customer, inventory-loss, count-adjustment, in-transit, quarantine)."""
