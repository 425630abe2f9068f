"""Staff pages of the messaging capability, under /staff/messaging, one blueprint per page:

- ``messaging_staff_templates`` (``templates/routes.py``): ``templates``, ``template_edit``/
  ``template_save``, ``template_preview``;
- ``messaging_staff_terms`` (``terms/routes.py``): ``terms``/``term_add``;
- ``messaging_staff_rulebooks`` (``rulebooks/routes.py``): ``rulebooks``,
  ``lender_rulebook_save``, ``rulebook_save``;
- ``messaging_staff_log`` (``log/routes.py``): ``messages``.

Shared by them: ``forms.py``, ``services.py`` (the writes), ``queries.py`` (the reads) and
``labels.py``.
"""
