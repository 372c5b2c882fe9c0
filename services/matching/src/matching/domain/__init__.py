"""Matching's pure rules: the interest taxonomy, geography, scoring, groups and assignment."""
