"""No views: the test project only needs a URLconf to exist."""

urlpatterns: list = []
