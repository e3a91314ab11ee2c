"""A stand-in Kubernetes API server on 127.0.0.1, for tests.

No real kube-apiserver can run on the test machines (no container
runtime, none packaged), so this one serves the slice of the API that
real ``kubectl`` (cordon, uncordon, annotate, drain, get) and kopf use,
with the semantics they rely on:

* discovery (``/version``, ``/api``, ``/apis``, each group version);
* Nodes (and ``nodes/status``), Namespaces, Pods with the ``eviction``
  subresource, PodDisruptionBudgets (``policy/v1``), core Events and
  Leases (``coordination.k8s.io/v1``);
* list and watch with ``resourceVersion`` resume (410 Gone once the
  history is trimmed), label and field selectors;
* create (``generateName`` too), replace, delete (finalizers hold a
  deletion until they are removed), and JSON merge, strategic merge and
  JSON patch;
* 409 Conflict when a write names a stale ``resourceVersion``, 409
  AlreadyExists, 404 NotFound, 429 on an eviction a budget forbids.

Simplifications, all documented in ``doc/source/kubernetes.rst``: no
authentication or admission; strategic merge replaces lists (no merge
keys; ``$``-directives are dropped); no controllers run (a Pod stays
where it is created; a budget's ``disruptionsAllowed`` is computed when
an eviction asks); deletion is immediate (no kubelet, no grace period).
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import threading
import uuid

from aiohttp import web

HISTORY = 2000    # watch events kept for resumption

# (group, version, plural, kind, namespaced, subresources, short names)
RESOURCES = (
    ('', 'v1', 'namespaces', 'Namespace', False, ('status',), ('ns',)),
    ('', 'v1', 'nodes', 'Node', False, ('status',), ('no',)),
    ('', 'v1', 'pods', 'Pod', True, ('status', 'eviction'), ('po',)),
    ('', 'v1', 'events', 'Event', True, (), ('ev',)),
    ('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', True,
     ('status',), ('pdb',)),
    ('coordination.k8s.io', 'v1', 'leases', 'Lease', True, (), ()),
)
VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']
INITIAL_NAMESPACES = ('default', 'kube-system')


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def _status(code, reason, message, kind=None, name=None):
    body = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
            'status': 'Failure', 'message': message, 'reason': reason,
            'code': code}
    if kind:
        body['details'] = {'name': name, 'kind': kind}
    return web.json_response(body, status=code)


class ApiError(Exception):
    def __init__(self, code, reason, message, kind=None, name=None):
        super().__init__(message)
        self.response = _status(code, reason, message, kind, name)


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (``null`` deletes)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _drop_directives(patch):
    if isinstance(patch, dict):
        return {k: _drop_directives(v) for k, v in patch.items()
                if not k.startswith('$')}
    if isinstance(patch, list):
        return [_drop_directives(v) for v in patch]
    return patch


def json_patch(target, operations):
    """RFC 6902: add, remove, replace, test (what clients send)."""
    doc = copy.deepcopy(target)
    for op in operations:
        parts = [p.replace('~1', '/').replace('~0', '~')
                 for p in op['path'].lstrip('/').split('/')]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) \
                else parent.setdefault(part, {})
        last = parts[-1]
        kind = op['op']
        if isinstance(parent, list):
            index = len(parent) if last == '-' else int(last)
            if kind == 'add':
                parent.insert(index, op['value'])
            elif kind == 'remove':
                del parent[index]
            elif kind == 'replace':
                parent[index] = op['value']
            elif kind == 'test' and parent[index] != op['value']:
                raise ApiError(422, 'Invalid', 'test of %s failed'
                               % op['path'])
            continue
        if kind in ('add', 'replace'):
            if kind == 'replace' and last not in parent:
                raise ApiError(422, 'Invalid', 'replace of missing %s'
                               % op['path'])
            parent[last] = op['value']
        elif kind == 'remove':
            if last not in parent:
                raise ApiError(422, 'Invalid', 'remove of missing %s'
                               % op['path'])
            del parent[last]
        elif kind == 'test' and parent.get(last) != op['value']:
            raise ApiError(422, 'Invalid', 'test of %s failed' % op['path'])
        elif kind not in ('test',):
            raise ApiError(422, 'Invalid', 'unsupported op %s' % kind)
    return doc


def _field(obj, path):
    for part in path.split('.'):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _parse_selector(text):
    """``[(key, op, values)]`` for ``k=v``, ``k!=v``, ``k``, ``!k``,
    ``k in (a,b)``, ``k notin (a,b)``."""
    terms, depth, current = [], 0, ''
    for char in text or '':
        depth += {'(': 1, ')': -1}.get(char, 0)
        if char == ',' and depth == 0:
            terms.append(current)
            current = ''
        else:
            current += char
    terms.append(current)
    parsed = []
    for term in (t.strip() for t in terms if t.strip()):
        for word, op in ((' notin ', 'notin'), (' in ', 'in')):
            if word in term:
                key, values = term.split(word, 1)
                parsed.append((key.strip(), op, {
                    v.strip() for v in values.strip(' ()').split(',')}))
                break
        else:
            if '!=' in term:
                key, value = term.split('!=', 1)
                parsed.append((key.strip(), '!=', {value.strip()}))
            elif '=' in term:
                key, value = term.replace('==', '=').split('=', 1)
                parsed.append((key.strip(), '=', {value.strip()}))
            elif term.startswith('!'):
                parsed.append((term[1:].strip(), '!exists', set()))
            else:
                parsed.append((term, 'exists', set()))
    return parsed


def _matches(values_of, selector):
    for key, op, values in selector:
        value = values_of(key)
        if op in ('=', 'in') and value not in values:
            return False
        if op in ('!=', 'notin') and value in values:
            return False
        if op == 'exists' and value is None:
            return False
        if op == '!exists' and value is not None:
            return False
    return True


def label_selector_matches(match_labels, labels):
    return all(labels.get(k) == v for k, v in (match_labels or {}).items())


class Store:
    """Objects, the resource version counter and the watch history."""

    def __init__(self):
        self.objects = {}          # (plural, namespace, name) -> object
        self.version = 0
        self.history = []          # (version, plural, type, object)
        self.watchers = set()      # an asyncio.Event per open watch

    def bump(self):
        self.version += 1
        return str(self.version)

    async def record(self, plural, event_type, obj):
        self.history.append((int(obj['metadata']['resourceVersion']),
                             plural, event_type, copy.deepcopy(obj)))
        del self.history[:-HISTORY]
        for changed in self.watchers:
            changed.set()


class StandInApiServer:
    """Run with ``start()`` (in a thread) and ``stop()``; ``url``."""

    def __init__(self):
        self.store = None
        self.url = None
        self._loop = None
        self._runner = None
        self._thread = None
        self._kinds = {}
        for group, version, plural, kind, namespaced, subs, short in \
                RESOURCES:
            self._kinds[plural] = dict(
                group=group, version=version, kind=kind,
                namespaced=namespaced, subresources=subs, short=short,
                api_version='%s/%s' % (group, version) if group
                else version)

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run():
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True,
                                        name='stand-in-apiserver')
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError('the stand-in API server did not start')
        return self

    def stop(self):
        if self._loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(),
                                                  self._loop)
        future.result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop = None

    def kubeconfig(self):
        """A kubeconfig (YAML-compatible JSON) pointing at this server."""
        return json.dumps({
            'apiVersion': 'v1', 'kind': 'Config',
            'clusters': [{'name': 'stand-in',
                          'cluster': {'server': self.url}}],
            'users': [{'name': 'tester', 'user': {}}],
            'contexts': [{'name': 'stand-in', 'context': {
                'cluster': 'stand-in', 'user': 'tester'}}],
            'current-context': 'stand-in'})

    async def _serve(self):
        self.store = Store()
        app = web.Application()
        app.router.add_get('/version', self._version)
        app.router.add_get('/api', self._api_versions)
        app.router.add_get('/apis', self._api_groups)
        app.router.add_get('/api/{version}', self._resource_list)
        app.router.add_get('/apis/{group}/{version}', self._resource_list)
        for prefix in ('/api/{version}', '/apis/{group}/{version}'):
            for scope in ('/namespaces/{namespace}', ''):
                base = prefix + scope + '/{plural}'
                app.router.add_route('*', base, self._collection)
                app.router.add_route('*', base + '/{name}', self._item)
                app.router.add_route('*', base + '/{name}/{sub}',
                                     self._subresource)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        # Open watches end at shutdown; nothing to wait for.
        site = web.TCPSite(self._runner, '127.0.0.1', 0,
                           shutdown_timeout=0.5)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = 'http://127.0.0.1:%d' % port
        for name in INITIAL_NAMESPACES:
            await self._create('namespaces', None, {'metadata': {
                'name': name}})

    # -- discovery ---------------------------------------------------------

    async def _version(self, request):
        return web.json_response({
            'major': '1', 'minor': '32', 'gitVersion': 'v1.32.0-stand-in',
            'platform': 'linux/amd64'})

    async def _api_versions(self, request):
        return web.json_response({
            'kind': 'APIVersions', 'versions': ['v1'],
            'serverAddressByClientCIDRs': [{
                'clientCIDR': '0.0.0.0/0',
                'serverAddress': self.url.split('//', 1)[1]}]})

    async def _api_groups(self, request):
        groups = {}
        for info in self._kinds.values():
            if info['group']:
                groups.setdefault(info['group'], info['version'])
        return web.json_response({'kind': 'APIGroupList', 'apiVersion': 'v1',
                                  'groups': [{
                                      'name': g,
                                      'versions': [{
                                          'groupVersion': '%s/%s' % (g, v),
                                          'version': v}],
                                      'preferredVersion': {
                                          'groupVersion': '%s/%s' % (g, v),
                                          'version': v}}
                                      for g, v in groups.items()]})

    async def _resource_list(self, request):
        group = request.match_info.get('group', '')
        version = request.match_info['version']
        resources = []
        for plural, info in self._kinds.items():
            if (info['group'], info['version']) != (group, version):
                continue
            resources.append({
                'name': plural, 'singularName': info['kind'].lower(),
                'namespaced': info['namespaced'], 'kind': info['kind'],
                'verbs': VERBS, 'shortNames': list(info['short'])})
            for sub in info['subresources']:
                if sub == 'eviction':
                    resources.append({
                        'name': plural + '/eviction', 'singularName': '',
                        'namespaced': True, 'group': 'policy',
                        'version': 'v1', 'kind': 'Eviction',
                        'verbs': ['create']})
                else:
                    resources.append({
                        'name': '%s/%s' % (plural, sub), 'singularName': '',
                        'namespaced': info['namespaced'],
                        'kind': info['kind'],
                        'verbs': ['get', 'patch', 'update']})
        if not resources:
            return _status(404, 'NotFound', 'the server could not find the '
                           'requested resource')
        return web.json_response({
            'kind': 'APIResourceList', 'apiVersion': 'v1',
            'groupVersion': '%s/%s' % (group, version) if group
            else version, 'resources': resources})

    # -- routing -----------------------------------------------------------

    def _info(self, request):
        plural = request.match_info['plural']
        info = self._kinds.get(plural)
        group = request.match_info.get('group', '')
        if info is None or (info['group'], info['version']) != (
                group, request.match_info['version']):
            raise ApiError(404, 'NotFound', 'the server could not find the '
                           'requested resource')
        namespace = request.match_info.get('namespace')
        if info['namespaced'] and namespace and ('namespaces', None,
                                                 namespace) not in \
                self.store.objects and request.method != 'GET':
            raise ApiError(404, 'NotFound', 'namespaces "%s" not found'
                           % namespace, 'namespaces', namespace)
        if not info['namespaced'] and namespace:
            raise ApiError(404, 'NotFound', 'the server could not find the '
                           'requested resource')
        return plural, info, namespace

    async def _collection(self, request):
        try:
            plural, info, namespace = self._info(request)
            if request.method == 'GET':
                if request.query.get('watch') in ('true', '1'):
                    return await self._watch(request, plural, namespace)
                return self._list(request, plural, info, namespace)
            if request.method == 'POST':
                body = await request.json()
                if info['namespaced'] and not namespace:
                    raise ApiError(405, 'MethodNotAllowed', 'create needs '
                                   'a namespace')
                obj = await self._create(plural, namespace, body)
                return web.json_response(obj, status=201)
            raise ApiError(405, 'MethodNotAllowed', 'method not allowed')
        except ApiError as error:
            return error.response

    async def _item(self, request):
        try:
            plural, info, namespace = self._info(request)
            name = request.match_info['name']
            key = (plural, namespace if info['namespaced'] else None, name)
            if request.method == 'GET':
                return web.json_response(self._get(key))
            if request.method == 'PUT':
                body = await request.json()
                return web.json_response(await self._replace(key, body))
            if request.method == 'PATCH':
                return web.json_response(await self._patch(key, request))
            if request.method == 'DELETE':
                return web.json_response(await self._delete(key))
            raise ApiError(405, 'MethodNotAllowed', 'method not allowed')
        except ApiError as error:
            return error.response

    async def _subresource(self, request):
        try:
            plural, info, namespace = self._info(request)
            sub = request.match_info['sub']
            if sub not in info['subresources']:
                raise ApiError(404, 'NotFound', 'the server could not find '
                               'the requested resource')
            key = (plural, namespace if info['namespaced'] else None,
                   request.match_info['name'])
            if sub == 'eviction':
                if request.method != 'POST':
                    raise ApiError(405, 'MethodNotAllowed', 'POST only')
                return await self._evict(key, await request.json())
            if request.method == 'GET':
                return web.json_response(self._get(key))
            if request.method == 'PUT':
                body = await request.json()
                current = self._get(key)
                body = dict(current, status=body.get('status'),
                            metadata=dict(current['metadata'],
                                          resourceVersion=body.get(
                                              'metadata', {}).get(
                                              'resourceVersion')))
                return web.json_response(await self._replace(key, body))
            if request.method == 'PATCH':
                return web.json_response(await self._patch(key, request))
            raise ApiError(405, 'MethodNotAllowed', 'method not allowed')
        except ApiError as error:
            return error.response

    # -- verbs -------------------------------------------------------------

    def _get(self, key):
        obj = self.store.objects.get(key)
        if obj is None:
            raise ApiError(404, 'NotFound', '%s "%s" not found'
                           % (key[0], key[2]), key[0], key[2])
        return copy.deepcopy(obj)

    def _select(self, request, plural, namespace):
        labels = _parse_selector(request.query.get('labelSelector'))
        fields = _parse_selector(request.query.get('fieldSelector'))
        ordered = sorted(self.store.objects.items(),
                         key=lambda kv: (kv[0][1] or '', kv[0][2]))
        for (kind, ns, _), obj in ordered:
            if kind != plural or (namespace and ns != namespace):
                continue
            if not _matches(
                    lambda k: obj['metadata'].get('labels', {}).get(k),
                    labels):
                continue
            if not _matches(lambda k: _field(obj, k), fields):
                continue
            yield obj

    def _list(self, request, plural, info, namespace):
        return web.json_response({
            'kind': info['kind'] + 'List', 'apiVersion': info['api_version'],
            'metadata': {'resourceVersion': str(self.store.version)},
            'items': [copy.deepcopy(o) for o in
                      self._select(request, plural, namespace)]})

    async def _watch(self, request, plural, namespace):
        since = request.query.get('resourceVersion')
        timeout = float(request.query.get('timeoutSeconds') or 1800)
        labels = _parse_selector(request.query.get('labelSelector'))
        fields = _parse_selector(request.query.get('fieldSelector'))
        response = web.StreamResponse(headers={
            'Content-Type': 'application/json'})
        await response.prepare(request)
        store = self.store
        if since in (None, '', '0'):
            # No version: current objects as ADDED, then changes.
            position = store.version
            for obj in self._select(request, plural, namespace):
                await self._send(response, 'ADDED', obj)
        else:
            position = int(since)
            oldest = store.history[0][0] if store.history else None
            if oldest is not None and position < oldest - 1 and len(
                    store.history) >= HISTORY:
                await self._send(response, 'ERROR', {
                    'kind': 'Status', 'apiVersion': 'v1', 'status':
                    'Failure', 'reason': 'Expired', 'code': 410,
                    'message': 'too old resource version: %s' % since})
                return response
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        changed = asyncio.Event()
        store.watchers.add(changed)
        try:
            while loop.time() < end:
                for version, kind, event_type, obj in list(store.history):
                    if version <= position:
                        continue
                    position = version
                    if kind != plural or (namespace and obj['metadata'].get(
                            'namespace') != namespace):
                        continue
                    if not _matches(lambda k: obj['metadata'].get(
                            'labels', {}).get(k), labels):
                        continue
                    if not _matches(lambda k: _field(obj, k), fields):
                        continue
                    await self._send(response, event_type, obj)
                try:
                    await asyncio.wait_for(
                        changed.wait(), timeout=max(0.01, end - loop.time()))
                except asyncio.TimeoutError:
                    pass
                changed.clear()
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        finally:
            store.watchers.discard(changed)
        return response

    @staticmethod
    async def _send(response, event_type, obj):
        await response.write(json.dumps(
            {'type': event_type, 'object': obj}).encode() + b'\n')

    async def _create(self, plural, namespace, body):
        info = self._kinds[plural]
        meta = body.setdefault('metadata', {})
        if not meta.get('name'):
            if not meta.get('generateName'):
                raise ApiError(422, 'Invalid', 'metadata.name: Required '
                               'value')
            meta['name'] = meta['generateName'] + uuid.uuid4().hex[:5]
        key = (plural, namespace if info['namespaced'] else None,
               meta['name'])
        if key in self.store.objects:
            raise ApiError(409, 'AlreadyExists', '%s "%s" already exists'
                           % (plural, meta['name']), plural, meta['name'])
        body['kind'] = info['kind']
        body['apiVersion'] = info['api_version']
        if info['namespaced']:
            meta['namespace'] = namespace
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now(),
                    generation=1, resourceVersion=self.store.bump())
        if plural == 'namespaces':
            body['status'] = {'phase': 'Active'}
        if plural == 'pods':
            body.setdefault('status', {}).setdefault('phase', 'Running')
        self.store.objects[key] = body
        await self.store.record(plural, 'ADDED', body)
        return copy.deepcopy(body)

    async def _replace(self, key, body, check_version=True):
        current = self._get(key)
        meta = body.setdefault('metadata', {})
        asked = meta.get('resourceVersion')
        if check_version and asked and asked != current['metadata'][
                'resourceVersion']:
            raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled '
                           'on %s "%s": the object has been modified; '
                           'please apply your changes to the latest '
                           'version and try again' % (key[0], key[2]),
                           key[0], key[2])
        for kept in ('uid', 'creationTimestamp', 'namespace', 'name',
                     'deletionTimestamp'):
            if kept in current['metadata']:
                meta[kept] = current['metadata'][kept]
        body['kind'] = current['kind']
        body['apiVersion'] = current['apiVersion']
        if body.get('spec') != current.get('spec'):
            meta['generation'] = current['metadata'].get('generation', 1) + 1
        else:
            meta['generation'] = current['metadata'].get('generation', 1)
        meta['resourceVersion'] = self.store.bump()
        if meta.get('deletionTimestamp') and not meta.get('finalizers'):
            del self.store.objects[key]
            await self.store.record(key[0], 'DELETED', body)
            return copy.deepcopy(body)
        self.store.objects[key] = body
        await self.store.record(key[0], 'MODIFIED', body)
        return copy.deepcopy(body)

    async def _patch(self, key, request):
        current = self._get(key)
        kind = request.content_type
        patch = json.loads(await request.text())
        if kind == 'application/json-patch+json':
            patched = json_patch(current, patch)
        elif kind == 'application/merge-patch+json':
            patched = merge_patch(current, patch)
        elif kind == 'application/strategic-merge-patch+json':
            patched = merge_patch(current, _drop_directives(patch))
        else:
            raise ApiError(415, 'UnsupportedMediaType', 'the body of the '
                           'request was in an unknown format: %s' % kind)
        asked = None
        if isinstance(patch, dict):
            asked = (patch.get('metadata') or {}).get('resourceVersion')
        if asked and asked != current['metadata']['resourceVersion']:
            raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled '
                           'on %s "%s": the object has been modified; '
                           'please apply your changes to the latest '
                           'version and try again' % (key[0], key[2]),
                           key[0], key[2])
        patched.setdefault('metadata', {})['resourceVersion'] = None
        return await self._replace(key, patched, check_version=False)

    async def _delete(self, key):
        current = self._get(key)
        if current['metadata'].get('finalizers'):
            if not current['metadata'].get('deletionTimestamp'):
                current['metadata']['deletionTimestamp'] = _now()
                current['metadata']['resourceVersion'] = self.store.bump()
                self.store.objects[key] = current
                await self.store.record(key[0], 'MODIFIED', current)
            return copy.deepcopy(current)
        del self.store.objects[key]
        current['metadata']['resourceVersion'] = self.store.bump()
        await self.store.record(key[0], 'DELETED', current)
        return current

    async def _evict(self, key, body):
        pod = self._get(key)
        labels = pod['metadata'].get('labels', {})
        for (kind, ns, name), pdb in list(self.store.objects.items()):
            if kind != 'poddisruptionbudgets' or ns != key[1]:
                continue
            selector = pdb['spec'].get('selector') or {}
            if not label_selector_matches(selector.get('matchLabels'),
                                          labels):
                continue
            if self._disruptions_allowed(pdb) <= 0:
                return _status(429, 'TooManyRequests', 'Cannot evict pod as '
                               'it would violate the pod\'s disruption '
                               'budget.', 'pods', key[2])
        dry_run = (body.get('deleteOptions') or {}).get('dryRun')
        if not dry_run:
            await self._delete(key)
        return web.json_response({'kind': 'Status', 'apiVersion': 'v1',
                                  'metadata': {}, 'status': 'Success',
                                  'code': 201}, status=201)

    def _disruptions_allowed(self, pdb):
        spec = pdb['spec']
        selector = (spec.get('selector') or {}).get('matchLabels')
        healthy = sum(
            1 for (kind, ns, _), pod in self.store.objects.items()
            if kind == 'pods' and ns == pdb['metadata']['namespace']
            and label_selector_matches(selector, pod['metadata'].get(
                'labels', {}))
            and not pod['metadata'].get('deletionTimestamp'))
        if 'maxUnavailable' in spec:
            return int(spec['maxUnavailable'])
        return healthy - int(spec.get('minAvailable', 0))
