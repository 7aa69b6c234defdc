"""The inbox's setup pages, kept by editors: standard answers, referral
templates, and the organisation's inbox settings with its assignment rules."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kanal.core.decorators import membership_required
from kanal.core.pages import form_page

from . import actions, templating
from .forms import (
    AssignmentRuleForm,
    InboxSettingsForm,
    ReferralTemplateForm,
    StandardAnswerForm,
)
from .models import AssignmentRule, InboxSettings
from .policies import (
    inbox_settings_policy,
    referral_template_policy,
    standard_answer_policy,
)


def _with_problems(texts) -> list:
    """The kept texts, each with ``problem``: the first variable Kanal
    cannot fill (kept before the check), shown on its row, or ""."""
    texts = list(texts)
    for text in texts:
        found = templating.unknown_variables(text.text)
        text.problem = found[0] if found else ""
    return texts


@require_http_methods(["GET", "POST"])
@membership_required
def standard_answers_view(request):
    actor = request.membership
    standard_answer_policy.check(actor, "list")
    can_manage = standard_answer_policy.can(actor, "manage")
    form = StandardAnswerForm(request.POST or None)
    if request.method == "POST":
        standard_answer_policy.check(actor, "manage")
        if form.is_valid():
            try:
                actions.save_standard_answer(actor=actor, **form.cleaned_data)
            except ValidationError as e:
                form.add_error(None, e)
            else:
                messages.success(request, _("Standardsvaret er gemt."))
                return redirect("inbox:standard_answers")
    return form_page(request, "inbox/standard_answers.html", {
        "answers": _with_problems(standard_answer_policy.visible(actor)),
        "form": form if can_manage else None,
        "can_manage": can_manage,
    })


@require_http_methods(["GET", "POST"])
@membership_required
def standard_answer_edit_view(request, pk):
    actor = request.membership
    answer = standard_answer_policy.get_allowed(actor, "manage", pk=pk)
    form = StandardAnswerForm(request.POST or None, instance=answer)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_standard_answer(actor=actor, answer=answer,
                                         title=form.cleaned_data["title"],
                                         text=form.cleaned_data["text"])
        except ValidationError as e:
            form.add_error(None, e)
        else:
            messages.success(request, _("Standardsvaret er gemt."))
            return redirect("inbox:standard_answers")
    return form_page(request, "inbox/standard_answer_form.html",
                  {"form": form, "answer": answer})


@require_http_methods(["GET", "POST"])
@membership_required
def standard_answer_delete_view(request, pk):
    """Asks first (GET), deletes on POST: a text written with care is not
    gone at one slip of the finger."""
    actor = request.membership
    answer = standard_answer_policy.get_allowed(actor, "manage", pk=pk)
    if request.method != "POST":
        return render(request, "inbox/kept_text_delete.html", {
            "kept": answer, "back": "inbox:standard_answers",
            "heading": _("Slet standardsvaret %(title)s") % {"title": answer.title},
        })
    actions.delete_standard_answer(answer, actor=actor)
    messages.success(request, _("Standardsvaret er slettet."))
    return redirect("inbox:standard_answers")


@require_http_methods(["GET", "POST"])
@membership_required
def referrals_view(request):
    actor = request.membership
    referral_template_policy.check(actor, "list")
    can_manage = referral_template_policy.can(actor, "manage")
    form = ReferralTemplateForm(request.POST or None,
                                organisation=actor.organisation)
    if request.method == "POST":
        referral_template_policy.check(actor, "manage")
        if _save_referral(request, form, actor, None):
            return redirect("inbox:referrals")
    return form_page(request, "inbox/referrals.html", {
        "templates": _with_problems(referral_template_policy.visible(actor)
                                    .select_related("administration")),
        "form": form if can_manage else None,
    })


@require_http_methods(["GET", "POST"])
@membership_required
def referral_edit_view(request, pk):
    actor = request.membership
    template = referral_template_policy.get_allowed(actor, "manage", pk=pk)
    form = ReferralTemplateForm(request.POST or None, instance=template,
                                organisation=actor.organisation)
    if request.method == "POST" and _save_referral(request, form, actor,
                                                    template):
        return redirect("inbox:referrals")
    return form_page(request, "inbox/referral_form.html",
                  {"form": form, "template": template})


def _save_referral(request, form, actor, template) -> bool:
    if not form.is_valid():
        return False
    try:
        actions.save_referral_template(
            actor=actor, template=template, title=form.cleaned_data["title"],
            text=form.cleaned_data["text"],
            administration=form.cleaned_data["administration"])
    except ValidationError as e:
        form.add_error(None, e)
        return False
    messages.success(request, _("Henvisningen er gemt."))
    return True


@require_http_methods(["GET", "POST"])
@membership_required
def referral_delete_view(request, pk):
    """Asks first (GET), deletes on POST, as a standard answer."""
    actor = request.membership
    template = referral_template_policy.get_allowed(actor, "manage", pk=pk)
    if request.method != "POST":
        return render(request, "inbox/kept_text_delete.html", {
            "kept": template, "back": "inbox:referrals",
            "heading": _("Slet henvisningen %(title)s") % {"title": template.title},
        })
    actions.delete_referral_template(template, actor=actor)
    messages.success(request, _("Henvisningen er slettet."))
    return redirect("inbox:referrals")


@require_http_methods(["GET", "POST"])
@membership_required
def settings_view(request):
    actor = request.membership
    inbox_settings_policy.check(actor, "change")
    row = InboxSettings.objects.filter(organisation_id=actor.organisation_id).first()
    posted = request.method == "POST"
    is_rule = posted and request.POST.get("form") == "rule"
    form = InboxSettingsForm(request.POST if posted and not is_rule else None,
                             instance=row)
    rule_form = AssignmentRuleForm(request.POST if is_rule else None,
                                   organisation=actor.organisation)
    if is_rule and rule_form.is_valid():
        try:
            actions.add_assignment_rule(actor=actor, **rule_form.cleaned_data)
        except ValidationError as e:
            rule_form.add_error(None, e)
        else:
            messages.success(request, _("Reglen er gemt."))
            return redirect("inbox:settings")
    elif posted and not is_rule and form.is_valid():
        actions.save_inbox_settings(form.save(commit=False), actor=actor,
                                    changed=form.changed_data)
        messages.success(request, _("Indbakkens indstillinger er gemt."))
        return redirect("inbox:settings")
    rules = AssignmentRule.objects.filter(
        organisation_id=actor.organisation_id
    ).select_related("channel", "administration")
    return form_page(request, "inbox/settings.html", {
        "form": form, "rule_form": rule_form, "rules": rules,
        "stored_problems": templating.stored_problems(actor.organisation_id),
    })


@require_POST
@membership_required
def rule_delete_view(request, pk):
    actor = request.membership
    inbox_settings_policy.check(actor, "change")
    try:
        rule = AssignmentRule.objects.get(pk=pk, organisation_id=actor.organisation_id)
    except AssignmentRule.DoesNotExist as e:
        raise Http404 from e
    actions.delete_assignment_rule(rule, actor=actor)
    messages.success(request, _("Reglen er slettet."))
    return redirect("inbox:settings")
