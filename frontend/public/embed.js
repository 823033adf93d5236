/*! mailsetup embed loader: one script tag + one element.
 *
 *   <div id="mailsetup" data-proxy="https://mailsetup.example.com" data-locale="ru"
 *        data-email="anna@yandex.ru" data-providers="gmail,yandex,other"
 *        data-return-credentials="false"></div>
 *   <script src="https://mailsetup.example.com/embed.js" async></script>
 *
 * Every element with the `data-mailsetup` attribute or the id `mailsetup` gets an iframe of
 * the proxy-served wizard in embed mode. The wizard talks to this page with postMessage,
 * only to this page's origin; the loader accepts messages only from its own iframe and the
 * proxy's origin, and re-emits them on the element as DOM CustomEvents:
 *   mailsetup:verified  (detail: {email, username, provider, incoming, outgoing, auth,
 *                        [password | grant] only with data-return-credentials="true"})
 *   mailsetup:cancelled (detail: null)
 */
(function () {
  'use strict';
  var script = document.currentScript;
  var scriptBase = script && script.src ? new URL('.', script.src).href : location.href;
  var counter = 0;

  function mount(el) {
    if (el.getAttribute('data-mailsetup-mounted')) return;
    el.setAttribute('data-mailsetup-mounted', '1');
    var d = el.dataset;
    var base = new URL(d.proxy || scriptBase, location.href);
    if (!/\/$/.test(base.pathname)) base.pathname += '/';
    var origin = base.origin;
    var frameId = 'mailsetup-' + (++counter);
    var src = new URL('./', base);
    var q = src.searchParams;
    q.set('embed', '1');
    q.set('parent_origin', location.origin);
    q.set('frame', frameId);
    if (d.locale) q.set('locale', d.locale);
    if (d.email) q.set('email', d.email);
    if (d.providers) q.set('providers', d.providers);
    // data-return-credentials="true" hands the password or the sign-in's tokens to this page;
    // data-return-password is its older name.
    var creds = d.returnCredentials !== undefined ? d.returnCredentials : d.returnPassword;
    if (creds !== undefined) q.set('return_credentials', creds === 'true' ? 'true' : 'false');

    var iframe = document.createElement('iframe');
    iframe.src = src.href;
    iframe.title = d.title || (d.locale === 'ru' ? 'Подключение почтового ящика' : 'Connect your mailbox');
    iframe.setAttribute('data-testid', 'mailsetup-frame');
    iframe.style.cssText = 'width:100%;border:0;display:block;min-height:420px;height:640px;color-scheme:normal';
    iframe.setAttribute('allow', 'clipboard-write');
    el.appendChild(iframe);

    window.addEventListener('message', function (ev) {
      if (ev.source !== iframe.contentWindow || ev.origin !== origin) return;
      var m = ev.data;
      if (!m || m.source !== 'mailsetup' || m.frame !== frameId) return;
      if (m.type === 'mailsetup:resize') {
        var h = Number(m.detail && m.detail.height);
        if (h > 0 && h < 20000) iframe.style.height = h + 'px';
        return;
      }
      if (m.type === 'mailsetup:verified' || m.type === 'mailsetup:cancelled') {
        el.dispatchEvent(new CustomEvent(m.type, { detail: m.detail, bubbles: true }));
      }
    });
  }

  function mountAll() {
    var els = document.querySelectorAll('[data-mailsetup], #mailsetup');
    for (var i = 0; i < els.length; i++) mount(els[i]);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', mountAll);
  } else {
    mountAll();
  }
  window.mailsetup = { mount: mount };
})();
