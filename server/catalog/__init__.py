"""The catalog: SKUs (name, unit cost, reorder settings) and the GTINs that name them."""
