"""User profiles (PII): name, email and demographics, re-written whenever a profile is saved."""

from __future__ import annotations

from .base import Column, ModelSink, text


class UserProfileSink(ModelSink):
    name = "user_profile"
    model_key = "user_profile"
    table = "user_profile"
    key_column = "id"
    columns = (
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
        Column("profile_image_uploaded_at", convert=text),
        Column("phone_number", convert=text),
    )
