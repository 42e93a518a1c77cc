"""Mirror of ``common/djangoapps/student/models/user.py``: ``UserProfile``, retirement names and
``CourseAccessRole`` (the rows behind ``student.roles``).

``UserProfile`` has edx-platform's table name (``auth_userprofile``), fields, choices and
``related_name="profile"``. ``country`` is a ``CharField(max_length=2)``: edx-platform uses
django-countries' ``CountryField`` (same column, a ``Country`` object in Python whose ``str()`` is
the code); django-countries is not installed here, so the attribute is the plain code string.

Retired usernames/emails follow ``settings.RETIRED_USERNAME_FMT``/``RETIRED_EMAIL_FMT`` with a
salted hash of the lower-cased value (edx's ``user_util``), preferring the value recorded in
``UserRetirementStatus``.
"""

import hashlib
import json
from datetime import UTC, datetime
from functools import total_ordering

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_noop
from opaque_keys.edx.django.models import CourseKeyField


def _retired_hash(value: str, salt: str) -> str:
    return hashlib.sha1((salt + value.lower()).encode("utf-8")).hexdigest()


def get_retired_username_by_username(username: str) -> str:
    """The retired username recorded for ``username``, else one hashed with the newest salt."""
    status_model = apps.get_model("user_api", "UserRetirementStatus")
    status = status_model.objects.filter(original_username=username).order_by("-modified").first()
    if status:
        return status.retired_username
    return settings.RETIRED_USERNAME_FMT.format(
        _retired_hash(username, settings.RETIRED_USER_SALTS[-1])
    )


def get_retired_email_by_email(email: str) -> str:
    """The retired email recorded for ``email``, else one hashed with the newest salt."""
    status_model = apps.get_model("user_api", "UserRetirementStatus")
    status = status_model.objects.filter(original_email=email).order_by("-modified").first()
    if status:
        return status.retired_email
    return settings.RETIRED_EMAIL_FMT.format(_retired_hash(email, settings.RETIRED_USER_SALTS[-1]))


def is_username_retired(username: str) -> bool:
    hashed = {
        settings.RETIRED_USERNAME_FMT.format(_retired_hash(username, salt))
        for salt in settings.RETIRED_USER_SALTS
    }
    status_model = apps.get_model("user_api", "UserRetirementStatus")
    return (
        User.objects.filter(username__in=hashed).exists()
        or status_model.objects.filter(original_username=username).exists()
    )


class UserProfile(models.Model):
    """All the user demographic fields (separate table from ``auth_user``).

    .. pii: Contains many PII fields. Retired in AccountRetirementView.
    .. pii_types: name, location, birth_date, gender, biography, phone_number
    .. pii_retirement: local_api
    """

    # cache key format e.g user.<user_id>.profile.country = 'SG'
    PROFILE_COUNTRY_CACHE_KEY = "user.{user_id}.profile.country"

    class Meta:
        app_label = "student"
        db_table = "auth_userprofile"
        permissions = (("can_deactivate_users", "Can deactivate, but NOT delete users"),)

    user = models.OneToOneField(
        User, unique=True, db_index=True, related_name="profile", on_delete=models.CASCADE
    )
    name = models.CharField(blank=True, max_length=255, db_index=True)
    meta = models.TextField(blank=True)  # JSON dictionary for future expansion
    courseware = models.CharField(blank=True, max_length=255, default="course.xml")
    # Deprecated free-form language, see UserPreference for the preferred language.
    language = models.CharField(blank=True, max_length=255, db_index=True)
    # No longer used, kept for users imported from the first class.
    location = models.CharField(blank=True, max_length=255, db_index=True)

    this_year = datetime.now(UTC).year
    VALID_YEARS = list(range(this_year, this_year - 120, -1))  # noqa: RUF012 - as in edx-platform
    year_of_birth = models.IntegerField(blank=True, null=True, db_index=True)
    GENDER_CHOICES = (
        ("m", gettext_noop("Male")),
        ("f", gettext_noop("Female")),
        ("o", gettext_noop("Other/Prefer Not to Say")),
    )
    gender = models.CharField(
        blank=True, null=True, max_length=6, db_index=True, choices=GENDER_CHOICES
    )
    LEVEL_OF_EDUCATION_CHOICES = (
        ("p", gettext_noop("Doctorate")),
        ("m", gettext_noop("Master's or professional degree")),
        ("b", gettext_noop("Bachelor's degree")),
        ("a", gettext_noop("Associate degree")),
        ("hs", gettext_noop("Secondary/high school")),
        ("jhs", gettext_noop("Junior secondary/junior high/middle school")),
        ("el", gettext_noop("Elementary/primary school")),
        ("none", gettext_noop("No formal education")),
        ("other", gettext_noop("Other education")),
    )
    level_of_education = models.CharField(
        blank=True, null=True, max_length=6, db_index=True, choices=LEVEL_OF_EDUCATION_CHOICES
    )
    mailing_address = models.TextField(blank=True, null=True)
    city = models.TextField(blank=True, null=True)
    country = models.CharField(max_length=2, blank=True, null=True)  # django-countries CountryField
    COUNTRY_WITH_STATES = "US"
    STATE_CHOICES = (
        ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"),
        ("AA", "Armed Forces Americas"), ("AE", "Armed Forces Europe"), ("AP", "Armed Forces Pacific"),
        ("CA", "California"), ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"),
        ("DC", "District Of Columbia"), ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"),
        ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"),
        ("KY", "Kentucky"), ("LA", "Louisiana"), ("ME", "Maine"), ("MD", "Maryland"),
        ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"), ("MS", "Mississippi"),
        ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
        ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
        ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"),
        ("OR", "Oregon"), ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"),
        ("SD", "South Dakota"), ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"),
        ("VT", "Vermont"), ("VA", "Virginia"), ("WA", "Washington"), ("WV", "West Virginia"),
        ("WI", "Wisconsin"), ("WY", "Wyoming"),
    )  # fmt: skip
    state = models.CharField(blank=True, null=True, max_length=2, choices=STATE_CHOICES)
    goals = models.TextField(blank=True, null=True)
    bio = models.CharField(blank=True, null=True, max_length=3000, db_index=False)
    profile_image_uploaded_at = models.DateTimeField(null=True, blank=True)
    phone_regex = RegexValidator(
        regex=r"^\+?1?\d*$",
        message="Phone number must start with '+' (optional) followed by digits (0-9) only.",
    )
    phone_number = models.CharField(validators=[phone_regex], blank=True, null=True, max_length=50)

    def __str__(self):
        return f"UserProfile({self.user_id})"

    @property
    def has_profile_image(self):
        return self.profile_image_uploaded_at is not None

    @property
    def age(self):
        if self.year_of_birth is not None:
            return datetime.now(UTC).year - self.year_of_birth - 1
        return None

    def get_meta(self):
        return json.loads(self.meta) if self.meta else {}

    def set_meta(self, meta_json):
        self.meta = json.dumps(meta_json)

    @classmethod
    def country_cache_key_name(cls, user_id):
        return cls.PROFILE_COUNTRY_CACHE_KEY.format(user_id=user_id)


class NoneToEmptyQuerySet(models.query.QuerySet):
    """Filters on ``None`` for a field with an ``Empty`` value (``CourseKeyField``) look for that
    empty value instead, as edx-platform's queryset does: an org-wide role has no course."""

    def _filter_or_exclude(self, negate, args, kwargs):
        for field in self.model._meta.get_fields():
            if getattr(field, "concrete", False) and hasattr(field, "Empty"):
                for suffix in ("", "__exact"):
                    key = f"{field.name}{suffix}"
                    if key in kwargs and kwargs[key] is None:
                        kwargs[key] = field.Empty
        return super()._filter_or_exclude(negate, args, kwargs)


class NoneToEmptyManager(models.Manager):
    def get_queryset(self):
        return NoneToEmptyQuerySet(self.model, using=self._db)


@total_ordering
class CourseAccessRole(models.Model):
    """A user's role in one course (``course_id`` set) or in a whole org (``course_id`` empty).

    Read by ``common.djangoapps.student.roles``. Equality, hashing and ordering use
    ``(role, org, course_id, user_id)``, as edx-platform's, so role sets compare without fetches.

    .. no_pii:
    """

    objects = NoneToEmptyManager()

    user = models.ForeignKey(User, on_delete=models.CASCADE)
    # blank org is for global group based roles such as course creator
    org = models.CharField(max_length=64, db_index=True, blank=True)
    # blank course_id implies an org-wide role
    course_id = CourseKeyField(max_length=255, db_index=True, blank=True)
    role = models.CharField(max_length=64, db_index=True)

    class Meta:
        app_label = "student"
        unique_together = ("user", "org", "course_id", "role")

    @property
    def _key(self):
        return (self.role, self.org, self.course_id, self.user_id)

    def __eq__(self, other):
        return type(self) is type(other) and self._key == other._key

    def __hash__(self):
        return hash(self._key)

    def __lt__(self, other):
        return self._key < other._key

    def __str__(self):
        return (
            f"[CourseAccessRole] user: {self.user.username}   role: {self.role}   "
            f"org: {self.org}   course: {self.course_id}"
        )
