"""The shopper portal (SPEC section 7): thin views over the selectors and services."""
