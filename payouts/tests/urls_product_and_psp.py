"""One live server for the product and the sandbox PSP: their URLs do not overlap
(/api/v1/..., /admin/... against /v1/..., /checkout/...), so a test can drive the whole
deposit journey over real HTTP: API -> PSP checkout -> signed webhook -> API."""

from config import urls as product
from payouts.sandbox import urls as psp

urlpatterns = [*product.urlpatterns, *psp.urlpatterns]
handler404 = product.handler404
handler500 = product.handler500
