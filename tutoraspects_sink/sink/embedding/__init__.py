"""Superset dashboards inside the platform: the instructor dashboard's "Reports" tab and
Studio's in-context metrics.

The LMS and the CMS never hand out Superset access themselves: they ask Superset for a short-lived
*guest token* for one user, one course (and one block, in context) and the dashboards shown, with
row-level security that restricts every query of that token to that course. Only the course's
staff and instructors, and global staff, get one (:mod:`.access`). Superset is reached over HTTP
only (:mod:`.superset`); settings keep platform-plugin-aspects' names and meaning (:mod:`.conf`).
"""
