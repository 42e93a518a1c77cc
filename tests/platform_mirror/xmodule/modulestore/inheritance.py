"""Mirror of ``xmodule/modulestore/inheritance.py``: which settings children inherit.

edx-platform's ``InheritableFieldsMixin`` declares these fields; the modulestore runtime gives a
block the value set on its nearest ancestor when the block does not set it itself. So every
descendant of a graded subsection (units, problems, videos) reads ``graded == True``, and a
unit's ``due`` is its subsection's.
"""

from typing import Any

from xblock.core import XBlockMixin
from xblock.fields import Any as AnyField
from xblock.fields import Boolean, DateTime, Field, Scope

from xmodule.course_metadata_utils import DEFAULT_START_DATE

# field name -> default when neither the block nor an ancestor sets it
INHERITABLE_FIELD_DEFAULTS = {
    "graded": False,
    "start": DEFAULT_START_DATE,
    "due": None,
    "relative_weeks_due": None,
    "visible_to_staff_only": False,
    "course_edit_method": "Studio",
    "giturl": None,
    "xqa_key": None,
    "graceperiod": None,
    "group_access": {},
    "showanswer": "finished",
    "show_correctness": "always",
    "rerandomize": "never",
    "days_early_for_beta": None,
    "static_asset_path": "",
    "use_latex_compiler": False,
    "max_attempts": None,
    "matlab_api_key": None,
    "user_partitions": [],
    "video_speed_optimizations": True,
    "video_auto_advance": False,
    "video_bumper": {},
    "show_reset_button": False,
    "edxnotes": False,
    "edxnotes_visibility": True,
    "in_entrance_exam": False,
    "self_paced": False,
    "hide_from_toc": False,
}


def _inheritable_field(name: str, default: Any) -> Field:
    """A settings-scoped field, as every ``InheritanceMixin`` field is."""
    if isinstance(default, bool):
        return Boolean(scope=Scope.settings, default=default)
    if name == "start":
        return DateTime(scope=Scope.settings, default=default)
    return AnyField(scope=Scope.settings, default=default)


# edx-platform's ``InheritanceMixin``: mixed into every block class by the runtime's
# mixologist, which is where ``graded``, ``start``, ``due``... come from.
InheritanceMixin = type(
    "InheritanceMixin",
    (XBlockMixin,),
    {
        "__doc__": "Settings-scoped fields that children inherit from their ancestors.",
        "__module__": __name__,
        **{
            name: _inheritable_field(name, default)
            for name, default in INHERITABLE_FIELD_DEFAULTS.items()
        },
    },
)
