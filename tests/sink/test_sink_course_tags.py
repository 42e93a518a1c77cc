"""Course dumps carry content tags as the reference writes them: a ``tags`` key in each block's
xblock_data_json and in course_data_json, the ids of the object's tags and of their ancestors,
kept current when blocks are tagged, tags move or are deleted."""

from __future__ import annotations

import json

import pytest
from celery import shared_task
from django.db import transaction
from factories import build_course, make_skills, publish_course
from openedx_events.content_authoring.data import ContentObjectChangedData
from openedx_events.content_authoring.signals import CONTENT_OBJECT_ASSOCIATIONS_CHANGED
from openedx_tagging import api
from openedx_tagging.models import ObjectTag

from tutoraspects_sink.sink.dumpers.course import course_of

pytestmark = pytest.mark.django_db(transaction=True)


def expected_tags(object_id: str) -> list[int]:
    """The reference's get_tags_for_block, over the models: each tag and its parents."""
    ids = set()
    for object_tag in api.get_object_tags(object_id):
        tag = object_tag.tag
        while tag:
            ids.add(tag.id)
            tag = tag.parent
    return sorted(ids)


def dumped_tags(sink, course_key: str) -> dict[str, list[int]]:
    """Location -> tags of the latest dump's blocks, and the course's under its own key."""
    (course_data, dump_id), *_ = sink.rows(
        "SELECT course_data_json, dump_id FROM {db}.current_course_overviews "
        "WHERE course_key = {c:String}",
        c=course_key,
    )
    blocks = sink.rows(
        "SELECT location, xblock_data_json FROM {db}.course_blocks WHERE dump_id = {d:UUID}",
        d=dump_id,
    )
    found = {location: json.loads(data)["tags"] for location, data in blocks}
    found[course_key] = json.loads(course_data)["tags"]
    return found


def test_course_and_block_tags_follow_tagging_moves_and_deletes(sink):
    spec = build_course("TagC", "C1", "2026", sections=1, subsections=1, units=2)
    course_key = str(publish_course(spec))
    untagged = dumped_tags(sink, course_key)
    assert set(map(tuple, untagged.values())) == {()}  # every block has the key: []

    skills = make_skills()
    video, problem = spec.find("video")[0], spec.find("problem")[0]
    video_id, problem_id = str(spec.location(video)), str(spec.location(problem))
    with transaction.atomic():  # one request tagging three objects: one course dump
        api.tag_object(video_id, skills, ["Optics", "Arts"])
        api.tag_object(problem_id, skills, ["Chemistry"])
        api.tag_object(course_key, skills, ["Science"])
    tags = dumped_tags(sink, course_key)
    for object_id in (video_id, problem_id, course_key):
        assert tags[object_id] == expected_tags(object_id) != []
    assert len(expected_tags(video_id)) == 4  # Optics, Physics, Science, Arts
    assert all(tags[location] == [] for location in tags if location not in (
        video_id, problem_id, course_key))  # fmt: skip

    # Moving Optics under Arts changes the video's ancestors; openedx_tagging announces it
    # for the objects tagged with Optics.
    with transaction.atomic():
        optics = skills.tag_set.get(value="Optics")
        optics.parent = skills.tag_set.get(value="Arts")
        optics.save()
    assert dumped_tags(sink, course_key)[video_id] == expected_tags(video_id)

    with transaction.atomic():
        api.delete_tags_from_taxonomy(skills, ["Chemistry"], with_subtags=False)
    assert dumped_tags(sink, course_key)[problem_id] == [] == expected_tags(problem_id)

    with transaction.atomic():
        skills.enabled = False  # a disabled taxonomy's tags are not shown, nor dumped
        skills.save()
        CONTENT_OBJECT_ASSOCIATIONS_CHANGED.send_event(
            content_object=ContentObjectChangedData(object_id=video_id, changes=["tags"])
        )
    assert dumped_tags(sink, course_key)[video_id] == [] == expected_tags(video_id)
    assert ObjectTag.objects.filter(object_id=video_id).count() == 2


def test_moving_an_ancestor_of_applied_tags_redumps_the_courses_below_it(sink):
    spec = build_course("TagM", "M1", "2026", sections=1, subsections=1, units=1)
    course_key = str(publish_course(spec))
    other = build_course("TagM", "M2", "2026", sections=1, subsections=1, units=1)
    other_key = str(publish_course(other))
    skills = make_skills()
    video_id, problem_id = (
        str(spec.location(spec.find("video")[0])),
        str(spec.location(spec.find("problem")[0])),
    )
    with transaction.atomic():
        api.tag_object(video_id, skills, ["Optics"])  # Physics is only an ancestor here
        api.tag_object(problem_id, skills, ["Chemistry"])
    before = dumped_tags(sink, course_key)
    untouched = sink.rows("SELECT dump_id FROM {db}.current_course_overviews "
                          "WHERE course_key = {c:String}", c=other_key)  # fmt: skip

    # openedx_tagging announces the objects tagged with Science or Physics only: none. (A
    # rename keeps tag ids; a move changes the ancestors of every tag below.)
    with transaction.atomic():
        science = skills.tag_set.get(value="Science")
        science.value = "Natural sciences"
        science.save()
        physics = skills.tag_set.get(value="Physics")
        physics.parent = skills.tag_set.get(value="Arts")
        physics.save()
    tags = dumped_tags(sink, course_key)
    assert tags[video_id] == expected_tags(video_id) != before[video_id]
    assert tags[problem_id] == expected_tags(problem_id)
    arts = skills.tag_set.get(value="Arts").id
    assert arts in tags[video_id] and science.id not in tags[video_id]
    # A course without those tags is not dumped again.
    assert sink.rows("SELECT dump_id FROM {db}.current_course_overviews "
                     "WHERE course_key = {c:String}", c=other_key) == untouched  # fmt: skip

    # Switching the taxonomy off takes its tags out of the course's dump, with no event.
    with transaction.atomic():
        skills.enabled = False
        skills.save()
    assert set(map(tuple, dumped_tags(sink, course_key).values())) == {()}


@shared_task
def tag_one_block_at_a_time(object_ids: list[str], taxonomy_id: int, value: str) -> None:
    """A platform task tagging block after block, each in a transaction of its own, as a
    course import does (openedx_tagging's tag_object commits each object on its own)."""
    taxonomy = api.get_taxonomy(taxonomy_id)
    for object_id in object_ids:
        api.tag_object(object_id, taxonomy, [value])


def test_tag_events_for_blocks_of_one_course_cause_one_dump(sink, settings):
    settings.EVENT_SINK_CLICKHOUSE_COURSE_HISTORY_SNAPSHOTS = 0  # every dump's row kept

    def dumps() -> int:
        return sink.rows(
            "SELECT count() FROM {db}.course_overviews WHERE course_key = {c:String}",
            c=course_key,
        )[0][0]

    spec = build_course("TagN", "N1", "2026", sections=2, subsections=1, units=10)
    course_key = str(publish_course(spec))
    blocks = [str(spec.location(block)) for block in spec.find("problem")]
    blocks += [str(spec.location(block)) for block in spec.find("video")]
    blocks = blocks[:20]
    assert len(blocks) == 20
    skills = make_skills()

    # One transaction tagging 20 blocks: one dump.
    before = dumps()
    with transaction.atomic():
        for object_id in blocks:
            api.tag_object(object_id, skills, ["Optics"])
    assert dumps() == before + 1
    assert all(dumped_tags(sink, course_key)[object_id] for object_id in blocks)

    # A platform task tagging them one transaction at a time: one dump, when it ends.
    before = dumps()
    tag_one_block_at_a_time.delay(blocks, skills.id, "Chemistry")
    assert dumps() == before + 1
    assert dumped_tags(sink, course_key)[blocks[0]] == expected_tags(blocks[0])

    # Moving a tag applied to the 20 blocks: the subtree's courses after commit, then
    # openedx_tagging's task announcing each of the 20 objects: one more dump, not 20.
    before = dumps()
    with transaction.atomic():
        chemistry = skills.tag_set.get(value="Chemistry")
        chemistry.parent = skills.tag_set.get(value="Arts")
        chemistry.save()
    assert dumps() == before + 2
    assert dumped_tags(sink, course_key)[blocks[0]] == expected_tags(blocks[0])


def test_keys_of_blocks_name_their_course_and_others_none():
    course = "course-v1:TagC+C1+2026"
    assert str(course_of(course)) == course
    assert str(course_of("block-v1:TagC+C1+2026+type@video+block@v1")) == course
    for other in ("lb:TagC:lib1:problem:p1", "lib-block-v1:TagC+L1+type@problem+block@p",
                  "not a key", ""):  # fmt: skip
        assert course_of(other) is None, other
