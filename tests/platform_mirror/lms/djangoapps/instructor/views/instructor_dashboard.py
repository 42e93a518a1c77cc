"""Mirror of ``lms/djangoapps/instructor/views/instructor_dashboard.py``: ``instructor_dashboard_2``.

What plugins see is kept: the page is built from ``sections`` (dicts with ``section_key``,
``section_display_name`` and optionally ``fragment`` and ``template_path_prefix``), then
``InstructorDashboardRenderStarted`` (openedx-filters) runs on ``context`` and ``template_name``,
and its three exceptions redirect, render another template or return a response; otherwise the
Mako template is rendered with the filtered context. A malformed course key answers 500 (as the
platform's view does), a user without access to the dashboard 404.

Simplified: one section ("Course Info"); the course comes from the modulestore directly (the
platform's ``get_course_by_id``); access is the platform's VIEW_DASHBOARD roles (global staff,
course staff and instructors, data researchers) instead of its bridgekeeper rules.
"""

import logging

from common.djangoapps.edxmako.shortcuts import render_to_response
from common.djangoapps.student.roles import (
    CourseDataResearcherRole,
    CourseInstructorRole,
    CourseStaffRole,
    GlobalStaff,
)
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect, HttpResponseServerError
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from openedx_filters.learning.filters import InstructorDashboardRenderStarted
from xmodule.modulestore.django import modulestore

log = logging.getLogger(__name__)


def _can_view_dashboard(user, course_key):
    return (
        GlobalStaff().has_user(user)
        or CourseStaffRole(course_key).has_user(user)
        or CourseInstructorRole(course_key).has_user(user)
        or CourseDataResearcherRole(course_key).has_user(user)
    )


def _section_course_info(course):
    return {
        "section_key": "course_info",
        "section_display_name": _("Course Info"),
        "course_id": str(course.id),
        "course_display_name": course.display_name,
    }


@login_required
@ensure_csrf_cookie
@cache_control(no_cache=True, no_store=True, must_revalidate=True)
def instructor_dashboard_2(request, course_id):
    """Display the instructor dashboard for a course."""
    try:
        course_key = CourseKey.from_string(course_id)
    except InvalidKeyError:
        log.error(
            "Unable to find course with course key %s while loading the Instructor Dashboard.",
            course_id,
        )
        return HttpResponseServerError()

    course = modulestore().get_course(course_key, depth=0)
    if course is None:
        raise Http404()
    if not _can_view_dashboard(request.user, course_key):
        raise Http404()

    sections = [_section_course_info(course)]
    context = {"course": course, "sections": sections, "studio_url": None}
    instructor_template = "instructor/instructor_dashboard_2/instructor_dashboard_2.html"

    try:
        # .. filter_implemented_name: InstructorDashboardRenderStarted
        # .. filter_type: org.openedx.learning.instructor.dashboard.render.started.v1
        context, instructor_template = InstructorDashboardRenderStarted.run_filter(
            context=context, template_name=instructor_template
        )
    except InstructorDashboardRenderStarted.RenderInvalidDashboard as exc:
        response = render_to_response(exc.instructor_template, exc.template_context)
    except InstructorDashboardRenderStarted.RedirectToPage as exc:
        response = HttpResponseRedirect(exc.redirect_to)
    except InstructorDashboardRenderStarted.RenderCustomResponse as exc:
        response = exc.response
    else:
        response = render_to_response(instructor_template, context)

    return response
