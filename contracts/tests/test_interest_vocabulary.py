"""The shared interest vocabulary (journey's clarification and matching's registries): words to codes."""

import pytest

from brobygger_contracts import interests


@pytest.mark.parametrize("word, code", [
    ("gåtur", "walking"), ("GÅTUR", "walking"), ("gatur", "walking"), ("promenad", "walking"), ("Walk", "walking"),
    ("kaffe", "coffee_and_conversation"), ("fika", "coffee_and_conversation"), ("coffee", "coffee_and_conversation"),
    ("cafe", "coffee_and_conversation"), ("svomning", "swimming"), ("tradgard", "gardening"), ("haekling", "crafts"), ("walking", "walking"),
])
def test_words_in_three_languages_any_case_and_accent_become_codes(word, code):
    assert interests.interest_code(word) == code


def test_an_unknown_word_names_close_matches_as_written():
    with pytest.raises(interests.UnknownInterest) as raised:
        interests.interest_code("gatru")
    assert raised.value.close[:1] == ["gåtur"]
    assert "'gåtur'" in str(raised.value)
    assert interests.close_matches("xyzzy") == []
