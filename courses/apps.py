from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "Courses"

    def ready(self):
        # sandboxes/ never imports courses/: it sends sandbox_ready, and courses listens.
        from courses import setup
        from sandboxes.signals import sandbox_ready

        sandbox_ready.connect(setup.on_sandbox_ready, dispatch_uid="courses.setup.on_sandbox_ready")
