// Signoff service worker: the app shell and the last pages seen, for a weak or no signal.
// Pages are network-first (the cached copy is used when the network fails or is too slow);
// the static files are cache-first. Nothing but GET is touched: decisions go through the
// page's outbox, which keeps them until the server has answered.
'use strict';
var SHELL_CACHE = 'signoff-shell-v1';
var PAGES_CACHE = 'signoff-pages-v1';
var SHELL = ['/assets/app.css', '/assets/app.js', '/assets/checkpoint.js', '/assets/icon.svg', '/assets/manifest.json', '/app/offline'];
// What a checkpoint needs offline: the published keys and the revocation list (network first).
var CHECKPOINT_CACHE = 'signoff-checkpoint-v1';
var CHECKPOINT_DATA = ['/.well-known/signoff-keys', '/credentials/revocations'];
var NETWORK_WAIT_MS = 5000;

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== SHELL_CACHE && name !== PAGES_CACHE && name !== CHECKPOINT_CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function cacheablePage(url) {
  return url.pathname.indexOf('/app') === 0 && url.pathname !== '/app/login' && url.pathname !== '/app/sw.js';
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (CHECKPOINT_DATA.indexOf(url.pathname) >= 0) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CHECKPOINT_CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }, function () {
      return caches.match(url.pathname, { cacheName: CHECKPOINT_CACHE }).then(function (hit) {
        return hit || new Response('{}', { status: 503, headers: { 'Content-Type': 'application/json' } });
      });
    }));
    return;
  }
  if (url.pathname.indexOf('/assets/') === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) { caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, response.clone()); }); }
        return response.clone();
      });
      return hit || fresh;
    }));
    return;
  }
  if (!cacheablePage(url)) { return; }
  event.respondWith(new Promise(function (resolve) {
    var settled = false;
    function fallback() {
      if (settled) { return; }
      settled = true;
      caches.match(request, { cacheName: PAGES_CACHE }).then(function (hit) {
        resolve(hit || caches.match('/app/offline'));
      });
    }
    var timer = setTimeout(fallback, NETWORK_WAIT_MS);
    fetch(request).then(function (response) {
      clearTimeout(timer);
      var type = response.headers.get('Content-Type') || '';
      if (response.ok && !response.redirected && type.indexOf('text/html') === 0) {
        var copy = response.clone();
        caches.open(PAGES_CACHE).then(function (cache) { cache.put(request, copy); });
      }
      if (!settled) { settled = true; resolve(response); }
    }, function () {
      clearTimeout(timer);
      fallback();
    });
  }));
});

self.addEventListener('sync', function (event) {
  if (event.tag !== 'signoff-outbox') { return; }
  event.waitUntil(self.clients.matchAll({ type: 'window' }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage('replay'); });
  }));
});
