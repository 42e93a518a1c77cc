"""Mirror of ``xmodule/modulestore/store_utilities.py``: ``DETACHED_XBLOCK_TYPES``.

edx-platform computes ``{name for name, __ in XBlock.load_tagged_classes("detached")}``. The
classes tagged ``detached`` there are ``AboutBlock`` (entry point ``about``), ``StaticTabBlock``
(``static_tab``) and ``CourseInfoBlock`` (``course_info``), all in ``xmodule/html_block.py``.
Detached blocks belong to a course but are nobody's child: only ``get_items`` returns them.
The real value is a ``set``.
"""

DETACHED_XBLOCK_TYPES = {"about", "static_tab", "course_info"}
