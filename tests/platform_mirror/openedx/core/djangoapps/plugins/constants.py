"""Mirror of ``openedx/core/djangoapps/plugins/constants.py``."""


class ProjectType:
    """The project types a plugin app registers for (entry-point groups)."""

    LMS = "lms.djangoapp"
    CMS = "cms.djangoapp"


class SettingsType:
    """The settings modules a plugin app can contribute to."""

    PRODUCTION = "production"
    COMMON = "common"
    DEVSTACK = "devstack"
    TEST = "test"
