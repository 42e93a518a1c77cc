"""Backfill of the tagging sinks: exact both ways (what changed is dumped, what is gone is
marked deleted), incremental, resumable, with the real openedx_tagging models."""

from __future__ import annotations

import pytest
from django.db import transaction
from factories import assert_tagging_views_equal_the_database, make_skills
from openedx_tagging import api
from openedx_tagging.models import ObjectTag, Tag, Taxonomy

from .helpers import dump, sinks_off
from .test_backfill import summary

pytestmark = pytest.mark.django_db(transaction=True)

BLOCK = "block-v1:TagB+B1+2026+type@problem+block@{}"
SINKS = ("taxonomy", "tag", "object_tag")


def dump_tagging(*args: str, **options) -> dict[str, dict[str, int]]:
    counts = {}
    for name in SINKS:
        result = dump(*args, object=name, **options)
        assert result.error is None, result.error
        counts[name] = summary(result, name)
    return counts


@pytest.fixture
def tagged(sink, settings):
    """Two taxonomies, tags, six tagged blocks: made while every sink is off."""
    with sinks_off(settings):
        skills = make_skills()
        levels = api.create_taxonomy("Levels", allow_free_text=True, export_id="levels")
        with transaction.atomic():
            for index, tags in enumerate((["Optics"], ["Chemistry", "Arts"], ["Physics"],
                                          ["Science"], ["Arts"], ["Optics", "Chemistry"])):  # fmt: skip
                api.tag_object(BLOCK.format(index), skills, tags)
                api.tag_object(BLOCK.format(index), levels, [f"level {index % 3}"])
    return skills


def test_backfill_is_exact_then_incremental(sink, tagged, settings):
    first = dump_tagging()
    counts = [Taxonomy.objects.count(), Tag.objects.count(), ObjectTag.objects.count()]
    assert [first[name]["dumped"] for name in SINKS] == counts == [2, 5, 14]
    assert_tagging_views_equal_the_database(sink)
    again = dump_tagging()
    assert [again[name]["dumped"] for name in SINKS] == [0, 0, 0]

    # Behind the sinks' back: a rename (the subtree's lineage changes in one UPDATE), a
    # deleted subtree (its object tags unlinked), a deleted object's tags, a bulk update.
    with sinks_off(settings):
        with transaction.atomic():
            api.update_tag_in_taxonomy(tagged, "Science", "Sciences")
        with transaction.atomic():
            api.delete_tags_from_taxonomy(tagged, ["Physics"], with_subtags=True)
        with transaction.atomic():
            api.delete_object_tags(BLOCK.format(4))
        ObjectTag.objects.filter(object_id=BLOCK.format(5)).update(is_copied=True)

    preview = dump("--dry-run", object="tag")
    assert "would mark 2 deleted" in preview.out
    second = dump_tagging()
    assert second["tag"]["dumped"] == 2  # Sciences and Chemistry; Physics and Optics gone
    # Object tags: those unlinked from Physics/Optics, the renamed lineages, block 5's copies.
    assert second["object_tag"]["dumped"] > 0
    assert_tagging_views_equal_the_database(sink)
    assert [dump_tagging()[name]["dumped"] for name in SINKS] == [0, 0, 0]
    for name in SINKS:  # nothing left to mark either
        assert "deleted" not in dump(object=name).out


def test_limit_resumes_and_skipped_ids_are_never_marked_deleted(sink, tagged, settings):
    tags = sorted(Tag.objects.values_list("id", flat=True))
    first = dump("--batch-size", "2", object="tag", limit=3)
    assert summary(first, "tag")["dumped"] == 3
    second = dump(object="tag")
    assert f"resuming at pk {tags[3]}" in second.err
    assert summary(second, "tag")["dumped"] == 2

    with sinks_off(settings):
        Tag.objects.filter(id__in=tags[-2:]).delete()
    skipping = dump("--ids-to-skip", str(tags[-1]), object="tag")
    assert "marked 1 deleted" in skipping.out
    held = {row[0] for row in sink.rows("SELECT id FROM {db}.current_tag")}
    assert held == {*tags[:-2], tags[-1]}
    forced = dump("--force", object="tag")
    assert "marked 1 deleted" in forced.out
    assert {row[0] for row in sink.rows("SELECT id FROM {db}.current_tag")} == set(tags[:-2])
