"""Taxonomies, tags and object tags: the real openedx_tagging models and API in, and after
every step the current views equal the database, column by column."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from factories import (
    assert_tagging_views_equal_the_database,
    current_tagging_rows,
    make_skills,
    tagging_rows,
)
from hypothesis import given
from hypothesis import strategies as st
from openedx_events.content_authoring.data import ContentObjectChangedData
from openedx_events.content_authoring.signals import CONTENT_OBJECT_ASSOCIATIONS_CHANGED
from openedx_tagging import api
from openedx_tagging.models import ObjectTag, Tag

from tutoraspects_sink import catalog
from tutoraspects_sink.catalog.values import lineage

pytestmark = pytest.mark.django_db(transaction=True)

BLOCK = "block-v1:TagX+T1+2026+type@video+block@{}"


def expected(name: str) -> list[tuple[Any, ...]]:
    return tagging_rows(name)


def current(sink, name: str) -> list[tuple[Any, ...]]:
    return current_tagging_rows(sink, name)


def assert_views_equal_the_database(sink) -> None:
    assert_tagging_views_equal_the_database(sink)


@pytest.fixture
def skills(sink):
    return make_skills()


def test_create_tag_rename_move_and_delete(sink, skills):
    assert_views_equal_the_database(sink)
    assert sink.count("tag") == 5  # one dump per tag saved, nothing more

    with transaction.atomic():
        api.tag_object(BLOCK.format("a"), skills, ["Optics", "Arts"])
        api.tag_object(BLOCK.format("b"), skills, ["Chemistry"])
    assert_views_equal_the_database(sink)
    (lineage,) = sink.rows("SELECT lineage FROM {db}.current_object_tag WHERE _value = 'Optics'")[0]
    assert json.loads(lineage) == ["Science", "Physics", "Optics"]

    # Renaming the root rewrites every descendant's lineage in one UPDATE (no post_save).
    with transaction.atomic():
        api.update_tag_in_taxonomy(skills, "Science", "Natural sciences")
    assert_views_equal_the_database(sink)
    assert json.loads(sink.rows("SELECT lineage FROM {db}.current_tag WHERE value = 'Optics'")[0][0]) == [
        "Natural sciences", "Physics", "Optics",
    ]  # fmt: skip

    # Moving a subtree changes lineage and depth below it.
    with transaction.atomic():
        physics = skills.tag_set.get(value="Physics")
        physics.parent = skills.tag_set.get(value="Arts")
        physics.save()
    assert_views_equal_the_database(sink)

    # Retagging an object replaces its object tags: the removed one leaves the view.
    with transaction.atomic():
        api.tag_object(BLOCK.format("a"), skills, ["Chemistry"])
    assert_views_equal_the_database(sink)

    # Deleting a tag with its subtree: the tags leave the view, their object tags stay
    # (openedx_tagging keeps them, unlinked, with their own value).
    with transaction.atomic():
        api.tag_object(BLOCK.format("c"), skills, ["Optics"])
    with transaction.atomic():
        api.delete_tags_from_taxonomy(skills, ["Arts"], with_subtags=True)
    assert_views_equal_the_database(sink)
    assert not sink.rows("SELECT id FROM {db}.current_tag WHERE value IN ('Arts', 'Physics')")
    unlinked = sink.dicts(
        "SELECT * FROM {db}.current_object_tag WHERE object_id = {o:String}", o=BLOCK.format("c")
    )
    assert [(row["tag"], json.loads(row["lineage"])) for row in unlinked] == [(0, ["Optics"])]

    with transaction.atomic():
        api.delete_object_tags(BLOCK.format("b"))
    assert_views_equal_the_database(sink)

    # Deleting the taxonomy: it and its tags leave the views; its object tags lose it.
    with transaction.atomic():
        skills.delete()
    assert_views_equal_the_database(sink)
    assert current(sink, "taxonomy") == [] and current(sink, "tag") == []
    assert {row[2] for row in current(sink, "object_tag")} == {0}


def test_taxonomy_changes_and_free_text_tags(sink):
    with transaction.atomic():
        free = api.create_taxonomy("Keywords", allow_free_text=True, export_id="keywords")
        api.tag_object(BLOCK.format("k"), free, ["fourier", "waves"])
    assert_views_equal_the_database(sink)

    with transaction.atomic():
        free.enabled, free.description = False, "Retired keywords"
        free.save()
    assert_views_equal_the_database(sink)
    (row,) = sink.dicts("SELECT enabled, description FROM {db}.current_taxonomy")
    assert row == {"enabled": False, "description": "Retired keywords"}


def test_associations_changed_redumps_the_objects_tags(sink, skills):
    with transaction.atomic():
        api.tag_object(BLOCK.format("e"), skills, ["Physics"])
    # A bulk change the sink cannot see (as an import does): the event brings it in.
    ObjectTag.objects.filter(object_id=BLOCK.format("e")).update(_value="Physique")
    sink.truncate()
    with transaction.atomic():
        CONTENT_OBJECT_ASSOCIATIONS_CHANGED.send_event(
            content_object=ContentObjectChangedData(object_id=BLOCK.format("e"), changes=["tags"])
        )
    assert current(sink, "object_tag") == expected("object_tag")
    assert [row[4] for row in current(sink, "object_tag")] == ["Physique"]


def test_a_taxonomy_saved_through_a_subclass_is_dumped(sink):
    # openedx-core's CompetencyTaxonomy (multi-table inheritance): Django announces its saves
    # with sender=CompetencyTaxonomy, never Taxonomy.
    from openedx_learning.api import create_competency_taxonomy

    with transaction.atomic():
        competencies = create_competency_taxonomy("Competencies", export_id="competencies")
        api.add_tag_to_taxonomy(competencies, "Teamwork")
    assert [row[1] for row in current(sink, "taxonomy")] == ["Competencies"]
    with transaction.atomic():
        competencies.name, competencies.enabled = "Competences", False
        competencies.save()
    assert_views_equal_the_database(sink)
    assert sink.rows("SELECT name, enabled FROM {db}.current_taxonomy") == [("Competences", False)]
    with transaction.atomic():
        competencies.delete()
    assert current(sink, "taxonomy") == [] == current(sink, "tag")


def test_disabled_tag_sinks_write_nothing(sink, settings):
    for name in ("taxonomy", "tag", "object_tag"):
        setattr(settings, catalog.get(name).setting, False)
    with transaction.atomic():
        taxonomy = api.create_taxonomy("Quiet")
        api.add_tag_to_taxonomy(taxonomy, "Silent")
        api.tag_object(BLOCK.format("q"), taxonomy, ["Silent"])
    assert [sink.count(name) for name in ("taxonomy", "tag", "object_tag")] == [0, 0, 0]


@given(st.text())
def test_lineage_of_any_stored_value_is_what_the_model_itself_gives(stored):
    # The oracle is openedx_tagging's own Tag.get_lineage(), whatever the column holds.
    assert lineage(stored) == json.dumps(Tag(lineage=stored).get_lineage())


@given(
    st.lists(st.text(st.characters(exclude_characters="\t"), min_size=1), min_size=1, max_size=6)
)
def test_lineage_lists_the_values_from_the_root(values):
    # Values are never empty (openedx_tagging strips them and refuses TABs).
    assert json.loads(lineage("".join(f"{value}\t" for value in values))) == values
    assert json.loads(lineage(None, values[0])) == values[:1]
