"""The interest taxonomy, shared with journey: see `brobygger_contracts.interests`."""

from brobygger_contracts.interests import (  # noqa: F401  (matching's name for the shared vocabulary)
    CODES, INTERESTS, Interest, InterestWords, UnknownInterest, canonical, close_matches, interest_code,
    interest_codes, is_known, label,
)
