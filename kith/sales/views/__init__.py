"""The sales pages: products and prices (catalogue), leads, opportunities, quotes."""
