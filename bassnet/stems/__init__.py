"""Stem collections (paper §5.2–5.3): a user's multitrack songs → a manifest → features → a model.

layouts   Slakh2100, MUSDB18-style and flat folders → manifest rows, with what was skipped
"""
