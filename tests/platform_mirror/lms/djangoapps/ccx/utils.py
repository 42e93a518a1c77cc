"""Mirror of ``lms/djangoapps/ccx/utils.py`` (``get_ccx_from_ccx_locator``)."""

from .models import CustomCourseForEdX


def get_ccx_from_ccx_locator(course_id):
    """The CustomCourseForEdX of a CCXLocator, or None."""
    ccx_id = getattr(course_id, "ccx", None)
    if ccx_id is None:
        return None
    return CustomCourseForEdX.objects.filter(id=ccx_id).first()
