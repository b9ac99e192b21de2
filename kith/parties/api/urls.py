app_name = "parties-api"
urlpatterns: list = []
