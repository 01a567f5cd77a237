"""The digests a build holds for every article: a listing's own compact table behaves
as a dict from path to digest, whatever is put in it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mkfeeds.incremental.digests import ListedDigests
from mkfeeds.source import Listing, SourceFile

RELS = [f"{folder}/{name}.txt" for folder in ("a", "b", "c") for name in range(4)]
LISTING = Listing("/in", [SourceFile("/in", rel, 1, 2, 3, 4) for rel in RELS])
# The listing's own string objects, and equal copies of them (found by bisection).
PATHS = st.sampled_from(RELS + ["elsewhere.txt", "a/0.txt~"]).flatmap(
    lambda rel: st.sampled_from([rel, rel[:1] + rel[1:]]))
DIGESTS = st.one_of(st.binary(min_size=16, max_size=16), st.binary(max_size=20))
OPERATIONS = st.lists(st.one_of(st.tuples(st.just("set"), PATHS, DIGESTS), st.tuples(st.just("pop"), PATHS)),
                      max_size=40)


@settings(max_examples=300, deadline=None)
@given(OPERATIONS)
def test_listed_digests_behave_as_a_dict(operations):
    model: dict[str, bytes] = {}
    digests = ListedDigests(LISTING)
    for operation in operations:
        if operation[0] == "set":
            _, rel, digest = operation
            model[rel] = digest
            digests[rel] = digest
        elif operation[1] in model:
            assert digests.pop(operation[1]) == model.pop(operation[1])
        else:
            assert digests.pop(operation[1], None) is None
            with pytest.raises(KeyError):
                digests.pop(operation[1])
        assert dict(digests) == model and len(digests) == len(model)
    assert all(digests.get(rel) == model.get(rel) for rel in RELS + ["elsewhere.txt"])


def test_a_listing_out_of_path_order_is_refused():
    with pytest.raises(ValueError):
        ListedDigests(Listing("/in", [SourceFile("/in", rel, 1, 2, 3, 4) for rel in reversed(RELS)]))
