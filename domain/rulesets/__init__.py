"""Valuation rule sets as versioned data, one JSON file per rule set.

Loaded by domain.valuation with importlib.resources. A published rule set is
never edited in a way that changes figures: contracts chose it by name, and an
auditor must get the same figures when replaying. Corrections get a new name
(e.g. ``utrecht-2025``) or, for wording only, a higher ``version``.
"""
