"""The merchant console's policy work: versions of a store's policy, store rules, simulation."""
