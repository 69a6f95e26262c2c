"""The store's catalogue (products and their variants, with stock) and exchanges for them.

- `models`: Product, Variant, ExchangeReservation;
- `importing`: the `products` of the import format and the product PUT endpoint's upsert;
- `selectors`: the exchange options of an order's lines;
- `rules`: the pure exchange rules; `services`: check, reserve, release.
"""
