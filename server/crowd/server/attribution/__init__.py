"""Who changed what: user, agent (named), git, external — decided from state, not guessed.

See docs/attribution.md for the rules and every known ambiguity.
"""
