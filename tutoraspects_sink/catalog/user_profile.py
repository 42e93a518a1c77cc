"""User profiles (PII): name, email and demographics, re-written whenever a profile is saved."""

from .declarations import Column, ModelSink, PlatformModel, saved
from .values import iso_datetime, text

SINK = ModelSink(
    name="user_profile",
    model=PlatformModel("user_profile", "common.djangoapps.student.models", "UserProfile"),
    personal=True,
    table="user_profile",
    columns=(
        Column("id"),
        Column("user_id"),
        Column("name"),
        Column("username", "user__username"),
        Column("email", "user__email"),
        Column("meta"),
        Column("courseware"),
        Column("language"),
        Column("location"),
        Column("year_of_birth", convert=text),
        Column("gender", convert=text),
        Column("level_of_education", convert=text),
        Column("mailing_address", convert=text),
        Column("city", convert=text),
        Column("country", convert=text),
        Column("state", convert=text),
        Column("goals", convert=text),
        Column("bio", convert=text),
        Column("profile_image_uploaded_at", convert=iso_datetime),
        Column("phone_number", convert=text),
    ),
    triggers=(saved(),),
)
