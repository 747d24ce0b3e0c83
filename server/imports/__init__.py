"""CSV imports: the catalog (SKUs and their GTINs) and the baseline stocktake, each checked
whole and then written in one transaction, or not at all."""
