"""Mirror of the retirement views of ``user_api/accounts/views.py`` (not HTTP views here).

edx-platform's retirement pipeline (tubular) calls, one HTTP request and one transaction each,
``.../accounts/deactivate_logout/`` (``create_retirement_request_and_deactivate_account``),
then e.g. ``.../enrollment/v1/unenroll/`` (unenrolls from every course), ...,
``.../accounts/retire_misc/`` (``LMSAccountRetirementView``) and finally
``.../accounts/retire/`` (``AccountRetirementView``). The two classes below keep the order of
operations of those views' ``post``; ``request`` is any object with a ``data`` mapping holding
``username`` (the *original* username) and ``post`` returns the HTTP status code.

Order that matters to sinks: when ``USER_RETIRE_LMS_MISC`` is sent the user still has their
original username and profile, but their email is already retired; afterwards
``AccountRetirementView`` scrubs the profile (``profile.save()``: post_save fires with the
original username still in place) and only then renames the user (``user.save()``).
"""

from django.db import transaction

from ..models import RetirementStateError, UserRetirementStatus
from .signals import USER_RETIRE_LMS_CRITICAL, USER_RETIRE_LMS_MISC, USER_RETIRE_MAILINGS

USER_PROFILE_PII = {
    "name": "",
    "meta": "",
    "location": "",
    "year_of_birth": None,
    "gender": None,
    "mailing_address": None,
    "city": None,
    "country": None,
    "bio": None,
    "phone_number": None,
}


class LMSAccountRetirementView:
    """``POST /api/user/v1/accounts/retire_misc/``: retire misc LMS data, send the signals."""

    def post(self, request) -> int:
        username = request.data["username"]
        try:
            with transaction.atomic():
                retirement = UserRetirementStatus.get_retirement_for_retirement_action(username)
                # This signal allows code in higher points of LMS to retire the user as necessary
                USER_RETIRE_LMS_MISC.send(sender=self.__class__, user=retirement.user)
                # This signal allows code in higher points of LMS to unsubscribe the user
                USER_RETIRE_MAILINGS.send(
                    sender=self.__class__,
                    email=retirement.original_email,
                    new_email=retirement.retired_email,
                    user=retirement.user,
                )
        except UserRetirementStatus.DoesNotExist:
            return 404
        except RetirementStateError:
            return 400
        return 204


class AccountRetirementView:
    """``POST /api/user/v1/accounts/retire/``: scrub the profile, then rename the user."""

    def post(self, request) -> int:
        username = request.data["username"]
        try:
            with transaction.atomic():
                retirement_status = UserRetirementStatus.get_retirement_for_retirement_action(
                    username
                )
                user = retirement_status.user
                retired_username = retirement_status.retired_username

                # Retire core user/profile information
                self.clear_pii_from_userprofile(user)

                # This signal allows code in higher points of LMS to retire the user as necessary
                USER_RETIRE_LMS_CRITICAL.send(sender=self.__class__, user=user)

                user.first_name = ""
                user.last_name = ""
                user.is_active = False
                user.username = retired_username
                user.save()
        except UserRetirementStatus.DoesNotExist:
            return 404
        except RetirementStateError:
            return 400
        return 204

    @staticmethod
    def clear_pii_from_userprofile(user) -> None:
        """Set every PII profile field to its retired value and save the profile."""
        for model_field, value_to_assign in USER_PROFILE_PII.items():
            setattr(user.profile, model_field, value_to_assign)
        user.profile.save()
