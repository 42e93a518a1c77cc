"""Taxonomies, tags and object tags: the real openedx_tagging models and API in, and after
every step the current views equal the database, column by column."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from openedx_events.content_authoring.data import ContentObjectChangedData
from openedx_events.content_authoring.signals import CONTENT_OBJECT_ASSOCIATIONS_CHANGED
from openedx_tagging import api
from openedx_tagging.models import ObjectTag, Tag, Taxonomy

from tutoraspects_sink import catalog

pytestmark = pytest.mark.django_db(transaction=True)

BLOCK = "block-v1:TagX+T1+2026+type@video+block@{}"


def expected(name: str) -> list[tuple[Any, ...]]:
    """What the database holds, in the sink's columns, computed from the models themselves
    (their own get_lineage(), not the sink's conversions)."""
    if name == "taxonomy":
        return sorted(
            (t.id, t.name, t.description, t.enabled, t.allow_multiple, t.allow_free_text,
             t.visible_to_authors, t.export_id, t.read_only)
            for t in Taxonomy.objects.all()
        )  # fmt: skip
    if name == "tag":
        return sorted(
            (t.id, t.taxonomy_id or 0, t.parent_id or 0, t.value, t.external_id,
             json.dumps(t.get_lineage()), t.depth)
            for t in Tag.objects.all()
        )  # fmt: skip
    return sorted(
        (o.id, o.object_id, o.taxonomy_id or 0, o.tag_id or 0, o._value, o._export_id,
         json.dumps(o.get_lineage()))
        for o in ObjectTag.objects.select_related("tag")
    )  # fmt: skip


def current(sink, name: str) -> list[tuple[Any, ...]]:
    columns = ", ".join(f"`{column.name}`" for column in catalog.get(name).columns)
    return sorted(sink.rows(f"SELECT {columns} FROM {{db}}.current_{name}"))


def assert_views_equal_the_database(sink) -> None:
    for name in ("taxonomy", "tag", "object_tag"):
        assert current(sink, name) == expected(name), name


@pytest.fixture
def skills(sink):
    """A three-level taxonomy: Science > Physics > Optics, Science > Chemistry, Arts."""
    with transaction.atomic():
        taxonomy = api.create_taxonomy("Skills", description="What a block teaches")
        api.add_tag_to_taxonomy(taxonomy, "Science")
        api.add_tag_to_taxonomy(taxonomy, "Physics", parent_tag_value="Science")
        api.add_tag_to_taxonomy(taxonomy, "Optics", parent_tag_value="Physics")
        api.add_tag_to_taxonomy(taxonomy, "Chemistry", parent_tag_value="Science")
        api.add_tag_to_taxonomy(taxonomy, "Arts", external_id="arts-01")
    return taxonomy


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


def test_disabled_tag_sinks_write_nothing(sink, settings):
    for name in ("taxonomy", "tag", "object_tag"):
        setattr(settings, catalog.get(name).setting, False)
    with transaction.atomic():
        taxonomy = api.create_taxonomy("Quiet")
        api.add_tag_to_taxonomy(taxonomy, "Silent")
        api.tag_object(BLOCK.format("q"), taxonomy, ["Silent"])
    assert [sink.count(name) for name in ("taxonomy", "tag", "object_tag")] == [0, 0, 0]
