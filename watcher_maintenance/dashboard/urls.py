from django.urls import re_path

from watcher_maintenance.dashboard import views

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
    re_path(r'^enter/$', views.EnterView.as_view(), name='enter'),
    re_path(r'^exit/$', views.ExitView.as_view(), name='exit'),
    re_path(r'^audit/(?P<audit_id>[^/]+)/$', views.ReviewView.as_view(),
            name='audit'),
    re_path(r'^plan/(?P<plan_id>[^/]+)/$', views.ResultsView.as_view(),
            name='plan'),
]
