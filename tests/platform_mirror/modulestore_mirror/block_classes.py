"""The platform's block classes, as real XBlock classes with edx-platform's fields and scopes.

edx-platform's own blocks cannot be installed here, so each is declared again with the fields
outline readers depend on, read from its class in edx-platform (path after each class). They
are real ``xblock.core.XBlock`` subclasses: ``cls.fields``, field scopes, ``has_children`` and
``children`` come from the XBlock package itself. Third-party blocks the openedx image ships
(xblock-poll's ``poll`` and ``survey``) are not mirrored: the runtime loads the installed
classes through XBlock's entry points.

What matters to the outline:

* ``display_name`` is settings-scoped on every platform class (``XModuleMixin``); only its
  default differs. xblock-poll declares it without a scope, hence content-scoped.
* ``ProblemBlock.display_name_with_default`` gives the block type for a blank name.
* ``completion_mode``: "aggregator" for containers (``SequenceMixin``, ``VerticalBlock``,
  ``ItemBankMixin`` without MARK_LIBRARY_CONTENT_BLOCK_COMPLETE_ON_VIEW), "completable" for
  videos, "excluded" for discussions; HTML-like blocks and problems do not define it.
"""

from __future__ import annotations

from datetime import timedelta

from xblock.core import XBlock
from xblock.fields import Boolean, Dict, Float, Integer, List, RelativeTime, Scope, String
from xmodule.x_module import XModuleMixin


def _name(default: str | None) -> String:
    return String(display_name="Display Name", scope=Scope.settings, default=default)


class SequenceMixin:
    """``xmodule/seq_block.py``: containers whose completion aggregates their children's."""

    has_children = True
    completion_mode = "aggregator"


class CourseBlock(SequenceMixin, XModuleMixin, XBlock):
    """``xmodule/course_block.py`` (``CourseFields``)."""

    display_name = _name("Empty")


class SectionBlock(SequenceMixin, XModuleMixin, XBlock):
    """``xmodule/seq_block.py``: the "chapter" type."""


class SequenceBlock(SequenceMixin, XModuleMixin, XBlock):
    """``xmodule/seq_block.py``: the "sequential" type."""

    format = String(scope=Scope.settings, default=None)


class VerticalBlock(XModuleMixin, XBlock):
    """``xmodule/vertical_block.py``."""

    has_children = True
    completion_mode = "aggregator"


class HtmlBlock(XModuleMixin, XBlock):
    """``xmodule/html_block.py`` (``HtmlBlockMixin``)."""

    display_name = _name("Text")
    data = String(scope=Scope.content, default="")
    editor = String(scope=Scope.settings, default="visual")


class AboutBlock(HtmlBlock):
    """``xmodule/html_block.py`` (``AboutFields``)."""

    display_name = _name("overview")


class StaticTabBlock(HtmlBlock):
    """``xmodule/html_block.py`` (``StaticTabFields``)."""

    display_name = _name("Empty")
    course_staff_only = Boolean(scope=Scope.settings, default=False)


class CourseInfoBlock(HtmlBlock):
    """``xmodule/html_block.py`` (``CourseInfoFields``)."""

    data = String(scope=Scope.content, default="<ol></ol>")
    items = List(scope=Scope.content, default=[])


class ProblemBlock(XModuleMixin, XBlock):
    """``xmodule/capa_block.py``."""

    display_name = _name("Blank Problem")
    data = String(scope=Scope.content, default="")
    weight = Float(scope=Scope.settings, default=None)

    @property
    def display_name_with_default(self) -> str:
        """edx-platform: the name unless None or blank, else the block type ("problem")."""
        if self.display_name is None or not self.display_name.strip():
            return self.location.block_type
        return self.display_name


class VideoBlock(XModuleMixin, XBlock):
    """``xmodule/video_block/video_block.py`` (``VideoFields``)."""

    display_name = _name("Video")
    completion_mode = "completable"
    youtube_id_1_0 = String(scope=Scope.settings, default="")
    html5_sources = List(scope=Scope.settings, default=[])
    start_time = RelativeTime(scope=Scope.settings, default=timedelta(seconds=0))
    end_time = RelativeTime(scope=Scope.settings, default=timedelta(seconds=0))


class DiscussionXBlock(XModuleMixin, XBlock):
    """``xmodule/discussion_block.py``."""

    display_name = _name("Discussion")
    completion_mode = "excluded"
    discussion_category = String(scope=Scope.settings, default="Week 1")
    discussion_target = String(scope=Scope.settings, default="Topic-Level Student-Visible Label")


class ItemBankMixin:
    """``xmodule/item_bank_block.py``: shows each learner a random subset of its children."""

    has_children = True
    completion_mode = "aggregator"
    max_count = Integer(scope=Scope.settings, default=1)


class LegacyLibraryContentBlock(ItemBankMixin, XModuleMixin, XBlock):
    """``xmodule/library_content_block.py``: the "library_content" type."""

    display_name = _name("Randomized Content Block")
    source_library_id = String(scope=Scope.settings, default=None)


class ItemBankBlock(ItemBankMixin, XModuleMixin, XBlock):
    """``xmodule/item_bank_block.py``: the "itembank" type (problem bank)."""

    display_name = _name("Problem Bank")


class SplitTestBlock(SequenceMixin, XModuleMixin, XBlock):
    """``xmodule/split_test_block.py``: a content experiment, one child per group."""

    display_name = _name("Content Experiment")
    user_partition_id = Integer(scope=Scope.content, default=-1)
    group_id_to_child = Dict(scope=Scope.content, default={})


class ConditionalBlock(SequenceMixin, XModuleMixin, XBlock):
    """``xmodule/conditional_block.py``."""

    display_name = _name("Conditional")
    sources_list = List(scope=Scope.content, default=[])
    conditional_attr = String(scope=Scope.content, default="correct")


class HiddenBlock(XModuleMixin, XBlock):
    """``xmodule/hidden_block.py``: the class of block types nothing provides."""


PLATFORM_BLOCK_CLASSES: dict[str, type[XBlock]] = {
    "course": CourseBlock,
    "chapter": SectionBlock,
    "sequential": SequenceBlock,
    "vertical": VerticalBlock,
    "html": HtmlBlock,
    "about": AboutBlock,
    "static_tab": StaticTabBlock,
    "course_info": CourseInfoBlock,
    "problem": ProblemBlock,
    "video": VideoBlock,
    "discussion": DiscussionXBlock,
    "library_content": LegacyLibraryContentBlock,
    "itembank": ItemBankBlock,
    "split_test": SplitTestBlock,
    "conditional": ConditionalBlock,
}
