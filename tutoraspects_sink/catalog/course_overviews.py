"""Course structure: on each publish, one ``course_blocks`` row per block, then one
``course_overviews`` row.

Blocks are numbered by a depth-first, pre-order walk of the published course, which gives
dashboards "1:2:3 - Video title" labels and the videos nobody watched. The course row is
written last, so it marks a complete snapshot; a deleted course gets a last row marked
``deleted`` and no blocks.
"""

from .declarations import POST_DELETE, POST_SAVE, CourseSink, PlatformModel, Table, Trigger

COURSE_COLUMNS = (
    "org", "course_key", "display_name", "course_start", "course_end", "enrollment_start",
    "enrollment_end", "self_paced", "course_data_json", "created", "modified", "dump_id",
    "time_last_dumped",
)  # fmt: skip
BLOCK_COLUMNS = (
    "org", "course_key", "location", "display_name", "xblock_data_json", "order", "edited_on",
    "dump_id", "time_last_dumped",
)  # fmt: skip

SINK = CourseSink(
    name="course_overviews",
    model=PlatformModel(
        "course_overviews",
        "openedx.core.djangoapps.content.course_overviews.models",
        "CourseOverview",
    ),
    course_table=Table("course_overviews", (*COURSE_COLUMNS, "deleted")),
    blocks_table=Table("course_blocks", BLOCK_COLUMNS),
    selections=("tag_subtree", "taxonomy"),
    triggers=(
        # A dump writes whichever state the course is in: published, or gone.
        Trigger("xmodule.modulestore.django.COURSE_PUBLISHED", key="course_key"),
        Trigger("xmodule.modulestore.django.COURSE_DELETED", key="course_key"),
        # Catalog data (name, schedule, pacing) richer than the overview's, kept in the row.
        Trigger(
            "openedx_events.content_authoring.signals.COURSE_CATALOG_INFO_CHANGED",
            key="catalog_info.course_key",
            payload="catalog_info",
        ),
        # Each dump carries the tags of the course and of its blocks (as the reference writes
        # them): tagging or untagging a block re-dumps its course, and so does any change to
        # an object's tags that openedx_tagging or Studio announce (a tag moved or deleted).
        Trigger(POST_SAVE, key="instance.object_id", sender="object_tag"),
        Trigger(POST_DELETE, key="instance.object_id", sender="object_tag"),
        # A renamed or moved tag changes the ancestors of every tag below it, in one bulk
        # UPDATE (openedx_tagging announces only the objects tagged with the saved tag itself):
        # the courses with an object tag anywhere in its subtree. A taxonomy switched off or
        # on changes which of its tags the dumps show: the courses it tags.
        Trigger(POST_SAVE, key="instance.pk", sender="tag", by="tag_subtree"),
        Trigger(POST_SAVE, key="instance.pk", sender="taxonomy", by="taxonomy"),
        Trigger(
            "openedx_events.content_authoring.signals.CONTENT_OBJECT_ASSOCIATIONS_CHANGED",
            key="content_object.object_id",
        ),
    ),
)
