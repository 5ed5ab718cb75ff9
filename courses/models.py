"""What the lab remembers about a learner's way through a course."""
from django.conf import settings
from django.db import models
from django.utils import timezone


class LessonProgressQuerySet(models.QuerySet):
    def completed_slugs(self, user, course_slug: str) -> set[str]:
        if not user.is_authenticated:
            return set()
        return set(self.filter(user=user, course=course_slug, completed_at__isnull=False)
                   .values_list("lesson", flat=True))


class LessonProgress(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="lesson_progress")
    course = models.SlugField(max_length=100)
    lesson = models.SlugField(max_length=100)
    first_opened_at = models.DateTimeField(default=timezone.now)
    last_opened_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = LessonProgressQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course", "lesson"], name="one_progress_per_lesson"),
        ]
        indexes = [models.Index(fields=["course", "lesson"])]

    def __str__(self):
        return f"{self.user} {self.course}/{self.lesson}"

    @classmethod
    def opened(cls, user, course: str, lesson: str) -> "LessonProgress":
        progress, created = cls.objects.get_or_create(user=user, course=course, lesson=lesson)
        if not created:
            cls.objects.filter(pk=progress.pk).update(last_opened_at=timezone.now())
        return progress

    @classmethod
    def complete(cls, user, course: str, lesson: str) -> None:
        progress, _ = cls.objects.get_or_create(user=user, course=course, lesson=lesson)
        # Keep the first completion time: later visits do not rewrite history.
        cls.objects.filter(pk=progress.pk, completed_at__isnull=True).update(completed_at=timezone.now())


class ExerciseProgress(models.Model):
    """A learner's standing on one exercise. first_passed_at never changes once set: a learner
    who later breaks their cluster has still done the exercise."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="exercise_progress")
    course = models.SlugField(max_length=100)
    lesson = models.SlugField(max_length=100)
    exercise = models.SlugField(max_length=100)
    passed = models.BooleanField(default=False, help_text="Whether it passed at the last check.")
    first_passed_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times the learner pressed Check.")
    solution_revealed_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "course", "exercise"],
                                               name="one_progress_per_exercise")]
        indexes = [models.Index(fields=["course", "exercise"])]

    def __str__(self):
        return f"{self.user} {self.course}/{self.exercise}"


class QuizAnswer(models.Model):
    """The learner's latest answer to one quiz check (answers are checked on the server)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="quiz_answers")
    course = models.SlugField(max_length=100)
    exercise = models.SlugField(max_length=100)
    check_id = models.SlugField(max_length=100)
    answer = models.JSONField()
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "course", "exercise", "check_id"],
                                               name="one_answer_per_quiz")]


class LessonSetup(models.Model):
    """A lesson's setup script, or the course's own (lesson "_course": setup.COURSE_LEVEL), run
    once against one sandbox: creating this row claims the run; exit_code stays empty while it
    runs, and keeps the script's exit code after (-1: it did not finish or could not start)."""

    sandbox_id = models.UUIDField()
    course = models.SlugField(max_length=100)
    lesson = models.SlugField(max_length=100)
    started_at = models.DateTimeField(default=timezone.now)
    exit_code = models.IntegerField(null=True, blank=True)
    output = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sandbox_id", "course", "lesson"],
                                               name="one_setup_per_sandbox_lesson")]
