"""Chinese first: the interface is zh-hans unless the visitor chose another language."""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin


class ChineseFirstLocaleMiddleware(MiddlewareMixin):
    """Like Django's LocaleMiddleware, but ignores the browser's Accept-Language.

    A branch portal is read by Chinese staff and residents, many on browsers set
    to English; they should see Chinese. The language switch (Django's
    ``set_language`` view) stores an explicit choice in a cookie, which wins.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        try:
            language = translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        response.headers.setdefault("Content-Language", translation.get_language())
        patch_vary_headers(response, ("Cookie",))  # caches must key on the language cookie
        return response
