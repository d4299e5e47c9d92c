/* kho: the teachers' web app. One page that the box serves at /, /search, /browse and
   /lesson/…; it draws each of those routes from the JSON API in docs/api.md. Plain ES5 with
   XMLHttpRequest and the History API, so that it runs on old phones; no build step, no
   external resources. Lessons are shown in a sandboxed iframe and never run in this page. */
(function () {
  'use strict';

  var PAGE_SIZE = 10;
  var MAX_OFFSET = 10000;

  /* Every string of the interface, in both languages. {0}, {1} are filled in by t(). */
  var STRINGS = {
    vi: {
      other: 'English',
      skip: 'Bỏ qua, đến nội dung chính',
      menu: 'Menu chính',
      browse: 'Duyệt theo môn',
      searchLabel: 'Tìm bài học',
      searchButton: 'Tìm',
      placeholder: 'Ví dụ: phân số, duong tron',
      homeHeading: 'Thư viện bài học',
      hint: 'Gõ có dấu hay không dấu đều được: “duong tron” cũng tìm ra “đường tròn”.',
      subjectsHeading: 'Duyệt theo môn học',
      lessons: '{0} bài',
      lessons1: '{0} bài',
      loading: 'Đang tải…',
      results: '{0} kết quả cho “{1}”',
      results1: '{0} kết quả cho “{1}”',
      resultsList: 'Kết quả tìm kiếm',
      page: 'Trang {0}/{1}',
      pages: 'Các trang kết quả',
      prevPage: '← Trang trước',
      nextPage: 'Trang sau →',
      didYouMean: 'Có phải bạn muốn tìm:',
      noResults: 'Không tìm thấy bài học nào cho “{0}”.',
      noResultsFiltered: 'Hãy thử bỏ bộ lọc hoặc dùng từ khác.',
      noResultsHint: 'Hãy thử từ khác, ít từ hơn, hoặc duyệt theo môn.',
      noResultsPage: 'Trang này không có kết quả.',
      firstPage: 'Về trang đầu',
      netError: 'Không kết nối được với máy chủ của trường. Hãy kiểm tra Wi-Fi rồi thử lại.',
      serverError: 'Máy chủ báo lỗi: {0}',
      retry: 'Thử lại',
      filters: 'Lọc kết quả',
      facet_subject: 'Môn học',
      facet_grade: 'Lớp',
      facet_pack: 'Bộ bài',
      activeFilters: 'Đang lọc:',
      removeFilter: 'Bỏ lọc {0}',
      grade: 'Lớp {0}',
      backSearch: '← Về kết quả tìm kiếm',
      backBrowse: '← Về danh sách bài',
      backHome: '← Về trang chủ',
      lessonNav: 'Bài trước và bài sau',
      prevLesson: '← Bài trước',
      nextLesson: 'Bài sau →',
      lessonFrame: 'Nội dung bài học: {0}',
      openFull: 'Mở bài học toàn màn hình',
      lessonMissing: 'Không tìm thấy bài học này. Có thể bộ bài đã được gỡ khỏi máy.',
      unverified: 'Bộ bài này chưa được xác minh chữ ký (bộ bài cục bộ).',
      syncNever: 'Máy chưa cập nhật bài học từ kho trung tâm.',
      syncLast: 'Bài học cập nhật lần cuối: ',
      notFound: 'Không có trang này.',
      breadcrumb: 'Vị trí',
      allSubjects: 'Tất cả môn học',
      chooseGrade: 'Chọn lớp',
      otherLessons: 'Các bài khác',
      noLessons: 'Chưa có bài học nào trên máy. Người quản lí máy có thể cài bộ bài bằng lệnh “kho import”.',
      noneHere: 'Không có bài học nào ở đây.',
      suggestions: 'Gợi ý',
      signIn: 'Đăng nhập',
      signOut: 'Đăng xuất',
      signInHint: 'Tài khoản của giáo viên do người quản lí máy tạo.',
      nameLabel: 'Tên đăng nhập',
      passwordLabel: 'Mật khẩu',
      signingIn: 'Đang đăng nhập…',
      wrongPassword: 'Sai tên đăng nhập hoặc mật khẩu.',
      tooMany: 'Đã nhập sai nhiều lần. Hãy đợi một phút rồi thử lại.',
      needName: 'Hãy nhập tên đăng nhập và mật khẩu.',
      signedIn: 'Đã đăng nhập: {0}',
      signedOut: 'Đã đăng xuất.',
      expired: 'Phiên đăng nhập đã hết. Hãy đăng nhập lại.',
      signInNeeded: 'Hãy đăng nhập để xem trang này.',
      myLessons: 'Bài của tôi',
      myLessonsOf: 'Bài của tôi: {0}',
      favourite: 'Yêu thích',
      favAdded: 'Đã thêm vào bài yêu thích.',
      favRemoved: 'Đã bỏ khỏi bài yêu thích.',
      favourites: 'Bài yêu thích',
      noFavourites: 'Chưa có bài yêu thích. Bấm “Yêu thích” ở trang bài học để lưu bài vào đây.',
      recent: 'Tiếp tục bài đã mở',
      noHistory: 'Bạn chưa mở bài học nào.',
      continueLesson: 'Tiếp tục: ',
      lessonGone: '(không còn trên máy)',
      profile: 'Hồ sơ',
      profileGrades: 'Lớp tôi dạy',
      profileSubjects: 'Môn tôi dạy',
      profileLang: 'Ngôn ngữ giao diện',
      saveProfile: 'Lưu hồ sơ',
      saved: 'Đã lưu hồ sơ.'
    },
    en: {
      other: 'Tiếng Việt',
      skip: 'Skip to main content',
      menu: 'Main menu',
      browse: 'Browse by subject',
      searchLabel: 'Search lessons',
      searchButton: 'Search',
      placeholder: 'e.g. phân số, duong tron',
      homeHeading: 'Lesson library',
      hint: 'Vietnamese accents are optional: “duong tron” also finds “đường tròn”.',
      subjectsHeading: 'Browse by subject',
      lessons: '{0} lessons',
      lessons1: '{0} lesson',
      loading: 'Loading…',
      results: '{0} results for “{1}”',
      results1: '{0} result for “{1}”',
      resultsList: 'Search results',
      page: 'Page {0} of {1}',
      pages: 'Result pages',
      prevPage: '← Previous page',
      nextPage: 'Next page →',
      didYouMean: 'Did you mean:',
      noResults: 'No lessons found for “{0}”.',
      noResultsFiltered: 'Try removing a filter or using other words.',
      noResultsHint: 'Try other or fewer words, or browse by subject.',
      noResultsPage: 'There are no results on this page.',
      firstPage: 'Go to the first page',
      netError: 'Cannot reach the school’s server. Check the Wi-Fi and try again.',
      serverError: 'The server reported an error: {0}',
      retry: 'Try again',
      filters: 'Filter results',
      facet_subject: 'Subject',
      facet_grade: 'Grade',
      facet_pack: 'Pack',
      activeFilters: 'Filtered by:',
      removeFilter: 'Remove filter {0}',
      grade: 'Grade {0}',
      backSearch: '← Back to search results',
      backBrowse: '← Back to the list',
      backHome: '← Back to home',
      lessonNav: 'Previous and next lesson',
      prevLesson: '← Previous lesson',
      nextLesson: 'Next lesson →',
      lessonFrame: 'Lesson: {0}',
      openFull: 'Open the lesson full screen',
      lessonMissing: 'This lesson was not found. Its pack may have been removed from the box.',
      unverified: 'This pack has no verified signature (a local pack).',
      syncNever: 'This box has not updated its lessons from the central library yet.',
      syncLast: 'Lessons last updated: ',
      notFound: 'There is no such page.',
      breadcrumb: 'You are here',
      allSubjects: 'All subjects',
      chooseGrade: 'Choose a grade',
      otherLessons: 'Other lessons',
      noLessons: 'There are no lessons on this box yet. Its administrator can install packs with “kho import”.',
      noneHere: 'There are no lessons here.',
      suggestions: 'Suggestions',
      signIn: 'Sign in',
      signOut: 'Sign out',
      signInHint: 'Teachers’ accounts are made by the box’s administrator.',
      nameLabel: 'User name',
      passwordLabel: 'Password',
      signingIn: 'Signing in…',
      wrongPassword: 'Wrong user name or password.',
      tooMany: 'Too many failed attempts. Wait a minute and try again.',
      needName: 'Enter your user name and password.',
      signedIn: 'Signed in: {0}',
      signedOut: 'Signed out.',
      expired: 'Your session has ended. Please sign in again.',
      signInNeeded: 'Sign in to see this page.',
      myLessons: 'My lessons',
      myLessonsOf: 'My lessons: {0}',
      favourite: 'Favourite',
      favAdded: 'Added to your favourites.',
      favRemoved: 'Removed from your favourites.',
      favourites: 'Favourite lessons',
      noFavourites: 'No favourites yet. Press “Favourite” on a lesson to keep it here.',
      recent: 'Continue where you left off',
      noHistory: 'You have not opened any lessons yet.',
      continueLesson: 'Continue: ',
      lessonGone: '(no longer on this box)',
      profile: 'Profile',
      profileGrades: 'Grades I teach',
      profileSubjects: 'Subjects I teach',
      profileLang: 'Interface language',
      saveProfile: 'Save profile',
      saved: 'Profile saved.'
    }
  };

  /* Subject codes of content-packs/FORMAT.md: [Vietnamese, English]. */
  var SUBJECTS = {
    'toan': ['Toán', 'Mathematics'],
    'tieng-viet': ['Tiếng Việt', 'Vietnamese'],
    'ngu-van': ['Ngữ văn', 'Literature'],
    'tieng-anh': ['Tiếng Anh', 'English'],
    'khoa-hoc': ['Khoa học', 'Science'],
    'khtn': ['Khoa học tự nhiên', 'Natural science'],
    'vat-li': ['Vật lí', 'Physics'],
    'hoa-hoc': ['Hoá học', 'Chemistry'],
    'sinh-hoc': ['Sinh học', 'Biology'],
    'lich-su-dia-li': ['Lịch sử và Địa lí', 'History and Geography'],
    'lich-su': ['Lịch sử', 'History'],
    'dia-li': ['Địa lí', 'Geography'],
    'tin-hoc': ['Tin học', 'Computing'],
    'cong-nghe': ['Công nghệ', 'Technology'],
    'dao-duc': ['Đạo đức', 'Ethics'],
    'gdcd': ['Giáo dục công dân', 'Civic education'],
    'english': ['English', 'English'],
    'science': ['Science', 'Science'],
    'mathematics': ['Mathematics', 'Mathematics']
  };

  var lang = 'vi';
  var schoolName = null;
  var syncInfo;              // /api/info's "sync": undefined until known, null: never synced
  var packTitles = {};
  var packLangs = {};           // each pack's language, marked on its titles for screen readers
  var view = { name: '' };      // the route drawn now: name, key (its API URL), params
  var mainReq = null;           // the request that will draw the main area
  var pending = {};             // after the next draw: focus, scroll position, a control to refocus
  var lastList = '';            // the last search or lesson list, for the lesson's back link
  var canPush = !!(window.history && history.pushState);
  var me = null;                // the signed-in teacher (GET /api/me), null when nobody is
  var meKnown = false;          // whether /api/me has answered yet
  var favs = null;              // the teacher's favourites: {"pack/lesson": true}, null until known
  var seq = 0;                  // counts routes drawn, so that late answers for an old page are dropped

  var doc = document;
  var main = doc.getElementById('main');
  var form = doc.getElementById('search-form');
  var input = doc.getElementById('q');
  var sugList = doc.getElementById('suggestions');
  var statusEl = doc.getElementById('status');
  var navBrowse = doc.getElementById('nav-browse');
  var navSignIn = doc.getElementById('nav-signin');
  var navMe = doc.getElementById('nav-me');
  var signOutButton = doc.getElementById('sign-out');

  /* ---- small helpers ---- */

  function t(key) {
    var s = STRINGS[lang][key];
    var i;
    if (s === undefined) s = STRINGS.vi[key] || key;
    for (i = 1; i < arguments.length; i++) s = s.split('{' + (i - 1) + '}').join(String(arguments[i]));
    return s;
  }

  function num(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'vi' ? '.' : ',');
  }

  function plural(key, n) {
    var extra = Array.prototype.slice.call(arguments, 2);
    return t.apply(null, [n === 1 ? key + '1' : key, num(n)].concat(extra));
  }

  function subjectName(code) {
    var s = SUBJECTS[code];
    return s ? s[lang === 'vi' ? 0 : 1] : String(code);
  }

  function gradeName(g) {
    return t('grade', g);
  }

  function packTitle(id) {
    return packTitles[id] || String(id);
  }

  function facetLabel(facet, value) {
    if (facet === 'subject') return subjectName(value);
    if (facet === 'grade') return gradeName(value);
    return packTitle(value);
  }

  function trim(s) {
    return String(s).replace(/^\s+|\s+$/g, '');
  }

  function enc(s) {
    return encodeURIComponent(s);
  }

  function dec(s) {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch (e) {
      return s;
    }
  }

  function parseQuery(qs) {
    var out = {};
    var parts = qs.replace(/^\?/, '').split('&');
    var i, p, eq, k;
    for (i = 0; i < parts.length; i++) {
      p = parts[i];
      if (!p) continue;
      eq = p.indexOf('=');
      k = dec(eq < 0 ? p : p.slice(0, eq));
      if (!out.hasOwnProperty(k)) out[k] = eq < 0 ? '' : dec(p.slice(eq + 1));
    }
    return out;
  }

  function store(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) { /* private mode or storage off: the choice lasts until reload */ }
  }

  function stored(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function sessionSet(key, value) {
    try {
      window.sessionStorage.setItem(key, value);
    } catch (e) { /* ignored */ }
  }

  function sessionGet(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function isArray(x) {
    return Object.prototype.toString.call(x) === '[object Array]';
  }

  function append(el, kids) {
    var i, k;
    if (kids === null || kids === undefined) return el;
    if (!isArray(kids)) kids = [kids];
    for (i = 0; i < kids.length; i++) {
      k = kids[i];
      if (k === null || k === undefined || k === false) continue;
      el.appendChild(typeof k === 'object' ? k : doc.createTextNode(String(k)));
    }
    return el;
  }

  /* h('a', {href: '/', text: 'kho'}, [children]): attributes are set in order, before the
     element is in the document ('sandbox' before 'src' matters for the lesson frame). */
  function h(tag, attrs, kids) {
    var el = doc.createElement(tag);
    var k, v;
    if (attrs) {
      for (k in attrs) {
        if (!attrs.hasOwnProperty(k)) continue;
        v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'text') el.appendChild(doc.createTextNode(String(v)));
        else if (k === 'html') el.innerHTML = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    return append(el, kids);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  function closest(el, test) {
    while (el && el.nodeType === 1) {
      if (test(el)) return el;
      el = el.parentNode;
    }
    return null;
  }

  /* The attribute, not the property: IE10 has no 'hidden' property. */
  function setHidden(el, hide) {
    if (hide) el.setAttribute('hidden', '');
    else el.removeAttribute('hidden');
  }

  function isHidden(el) {
    return el.hasAttribute('hidden');
  }

  function setStatus(text) {
    statusEl.textContent = '';
    setTimeout(function () { statusEl.textContent = text; }, 50);
  }

  function on(el, type, fn) {
    el.addEventListener(type, fn, false);
  }

  /* ---- the API ---- */

  var cache = {};
  var cacheOrder = [];

  function cacheGet(url) {
    return cache.hasOwnProperty(url) ? cache[url] : null;
  }

  function cachePut(url, data) {
    if (!cache.hasOwnProperty(url)) cacheOrder.push(url);
    cache[url] = data;
    while (cacheOrder.length > 60) delete cache[cacheOrder.shift()];
  }

  /* A request to the API; done(err, data) with err {network: true} or {status, message}.
     body (an object) is sent as JSON with the session's CSRF token (docs/api.md "Accounts").
     Returns an object whose abort() drops the request without calling done. */
  function request(method, url, body, done) {
    var x = new XMLHttpRequest();
    var over = false;
    function finish(err, data) {
      if (over) return;
      over = true;
      done(err, data);
    }
    x.open(method, url, true);
    try {
      x.timeout = 20000;
    } catch (e) { /* old browsers */ }
    x.setRequestHeader('Accept', 'application/json');
    if (method !== 'GET') {
      x.setRequestHeader('Content-Type', 'application/json');
      if (me && me.csrf) x.setRequestHeader('X-CSRF-Token', me.csrf);
    }
    x.onreadystatechange = function () {
      var data = null;
      if (x.readyState !== 4 || over) return;
      if (x.status === 0) {
        finish({ network: true });
        return;
      }
      try {
        data = JSON.parse(x.responseText);
      } catch (e) { /* not JSON */ }
      if (x.status >= 200 && x.status < 300 && data) finish(null, data);
      else finish({ status: x.status, message: data && data.error ? data.error : 'HTTP ' + x.status });
    };
    x.ontimeout = function () { finish({ network: true }); };
    x.send(body ? JSON.stringify(body) : null);
    return {
      abort: function () {
        over = true;
        try { x.abort(); } catch (e) { /* done already */ }
      }
    };
  }

  function getJSON(url, done) {
    return request('GET', url, null, done);
  }

  /* Draw from the cache at once, or fetch and draw; on failure draw the error with a retry. */
  function loadMain(url, draw) {
    var data = cacheGet(url);
    if (data) {
      draw(data);
      return;
    }
    main.setAttribute('data-state', 'loading');
    main.setAttribute('aria-busy', 'true');
    mainReq = getJSON(url, function (err, d) {
      mainReq = null;
      main.removeAttribute('aria-busy');
      if (err) {
        drawError(err);
        return;
      }
      cachePut(url, d);
      draw(d);
    });
  }

  /* ---- drawing the main area ---- */

  function setMain(nodes, state) {
    clear(main);
    append(main, nodes);
    main.setAttribute('data-state', state);
    main.removeAttribute('aria-busy');
    if (state !== 'loading') afterDraw();
  }

  function loadingView() {
    return h('p', { 'class': 'loading', id: 'loading', text: t('loading') });
  }

  function errorText(err) {
    if (err.network) return t('netError');
    if (err.status === 404 && view.name === 'lesson') return t('lessonMissing');
    return t('serverError', err.message);
  }

  function drawError(err) {
    var missing = err.status === 404;
    var box = h('div', { 'class': 'message error', id: 'error', 'data-test': 'error', role: 'alert' }, [
      h('p', { text: errorText(err) }),
      missing ? null : h('button', { type: 'button', 'class': 'button', 'data-action': 'retry', text: t('retry') })
    ]);
    setMain(view.name === 'lesson' ? [h('p', { 'class': 'back-row' }, backLink()), box] : box, 'error');
  }

  /* What the next draw should do: move focus to its heading (after a link was followed),
     scroll back to where the reader was (going back), or refocus the control they used. */
  function afterDraw() {
    var p = pending;
    var el;
    pending = {};
    if (p.refocus) {
      el = main.querySelector(p.refocus);
      if (el) el.focus();
    } else if (p.focus) {
      el = main.querySelector('h1');
      if (el) {
        el.setAttribute('tabindex', '-1');
        el.focus();
      }
    }
    if (typeof p.scroll === 'number') window.scrollTo(0, p.scroll);
  }

  function showSearchForm(show) {
    setHidden(form, !show);
    if (!show) closeSuggestions();
  }

  function setInput(q) {
    if (input.value !== q) input.value = q;
  }

  function pageTitle(first) {
    var site = schoolName || 'kho';
    doc.title = first ? first + ' — ' + site : site;
  }

  /* ---- routes ---- */

  function isAppPath(href) {
    return /^\/(\?|$|search(\?|$)|browse(\?|\/?$)|lesson\/|signin(\?|$)|me$)/.test(href);
  }

  /* Follow an app link. opts: replace (no new history entry), state (kept in history:
     prefix: the query was being typed), focus (move focus to the new heading). */
  function go(url, opts) {
    var state;
    opts = opts || {};
    if (!canPush) {
      window.location.href = url;
      return;
    }
    state = opts.state || {};
    if (/^\/lesson\//.test(url) && !opts.replace) {
      if (view.name === 'search' || view.name === 'browse') state.back = 1;
      else if (view.name === 'lesson' && history.state && history.state.back) state.back = history.state.back + 1;
    }
    saveScroll();
    if (opts.replace) history.replaceState(state, '', url);
    else history.pushState(state, '', url);
    pending = { focus: !!opts.focus, refocus: opts.refocus, scroll: opts.replace ? undefined : 0 };
    route(opts.typing);
  }

  function saveScroll() {
    var st = {};
    var k;
    var cur = history.state;
    if (!canPush) return;
    if (cur) for (k in cur) if (cur.hasOwnProperty(k)) st[k] = cur[k];
    st.y = window.pageYOffset || doc.documentElement.scrollTop || 0;
    try {
      history.replaceState(st, '', window.location.href);
    } catch (e) { /* ignored */ }
  }

  /* Draw the route of the address bar; typing: the reader is typing in the search input,
     so its completions stay open. */
  function route(typing) {
    var path = window.location.pathname;
    var params = parseQuery(window.location.search);
    var m;
    if (mainReq) {
      mainReq.abort();
      mainReq = null;
    }
    if (!typing) closeSuggestions();
    main.setAttribute('data-view', '');
    seq++;
    if (/^\/browse/.test(path)) navBrowse.setAttribute('aria-current', 'page');
    else navBrowse.removeAttribute('aria-current');
    if (path === '/me') navMe.setAttribute('aria-current', 'page');
    else navMe.removeAttribute('aria-current');
    if (path === '/signin') navSignIn.setAttribute('aria-current', 'page');
    else navSignIn.removeAttribute('aria-current');
    /* Signing in from a page comes back to it. */
    if (path !== '/signin' && path !== '/me') navSignIn.setAttribute('href', '/signin?next=' + enc(path + window.location.search));
    if (path === '/' || path === '/index.html') {
      drawHome();
    } else if (path === '/search' || path === '/search/') {
      drawSearchRoute(params);
    } else if ((m = /^\/lesson\/([^\/]+)\/([^\/]+)\/?$/.exec(path))) {
      drawLessonRoute(dec(m[1]), dec(m[2]));
    } else if (path === '/browse' || path === '/browse/') {
      drawBrowseRoute(params);
    } else if (path === '/signin') {
      drawSignIn(params);
    } else if (path === '/me') {
      drawMe();
    } else {
      view = { name: 'notfound' };
      showSearchForm(true);
      pageTitle(t('notFound'));
      setMain([h('h1', { text: t('notFound') }), h('p', {}, h('a', { href: '/', text: t('backHome') }))], 'ready');
    }
  }

  function subjectTiles(list, id) {
    var ul = h('ul', { 'class': 'tiles', id: id });
    var i, s;
    for (i = 0; i < list.length; i++) {
      s = list[i];
      ul.appendChild(h('li', {}, h('a', {
        'class': 'tile', href: '/browse?subject=' + enc(s.value), 'data-test': 'browse-subject', 'data-value': s.value
      }, [h('span', { 'class': 'tile-name', text: subjectName(s.value) }),
        h('span', { 'class': 'tile-count', text: plural('lessons', s.count) })])));
    }
    return ul;
  }

  /* Home: the search form (always above main) and the subjects. */
  function drawHome() {
    var box = h('div', { id: 'home-subjects' }, loadingView());
    view = { name: 'home' };
    main.setAttribute('data-view', 'home');
    showSearchForm(true);
    if (doc.activeElement !== input) setInput('');
    pageTitle('');
    setMain([
      h('section', { 'class': 'intro' }, [
        h('h1', { id: 'home-heading', text: t('homeHeading') }),
        h('p', { 'class': 'hint', text: t('hint') }),
        h('p', { 'class': 'continue', id: 'continue', hidden: true })
      ]),
      h('section', { 'aria-labelledby': 'subjects-heading' }, [
        h('h2', { id: 'subjects-heading', text: t('subjectsHeading') }),
        box
      ]),
      h('p', { id: 'sync-status', 'data-test': 'sync-status', 'class': 'hint' })
    ], 'loading');
    showSyncStatus();
    showContinue();
    loadMain('/api/browse', function (d) {
      var list = d.subjects || [];
      clear(box);
      box.appendChild(list.length ? subjectTiles(list, 'home-subject-list')
        : h('p', { 'class': 'message', text: t('noLessons') }));
      main.setAttribute('data-state', 'ready');
      afterDraw();
    });
  }

  /* ---- search ---- */

  function searchParams(p) {
    var page = parseInt(p.page, 10);
    return {
      q: p.q || '',
      subject: p.subject || '',
      grade: p.grade || '',
      pack: p.pack || '',
      page: page > 0 ? page : 1
    };
  }

  function searchPath(s) {
    var url = '/search?q=' + enc(s.q);
    if (s.subject) url += '&subject=' + enc(s.subject);
    if (s.grade) url += '&grade=' + enc(s.grade);
    if (s.pack) url += '&pack=' + enc(s.pack);
    if (s.page > 1) url += '&page=' + s.page;
    return url;
  }

  function searchApi(s, prefix) {
    var offset = Math.min((s.page - 1) * PAGE_SIZE, MAX_OFFSET);
    var url = '/api/search?q=' + enc(s.q);
    if (s.subject) url += '&subject=' + enc(s.subject);
    if (s.grade) url += '&grade=' + enc(s.grade);
    if (s.pack) url += '&pack=' + enc(s.pack);
    url += '&limit=' + PAGE_SIZE + '&offset=' + offset;
    if (prefix) url += '&prefix=1';
    return url;
  }

  function copySearch(s, changes) {
    var out = { q: s.q, subject: s.subject, grade: s.grade, pack: s.pack, page: s.page };
    var k;
    for (k in changes) if (changes.hasOwnProperty(k)) out[k] = changes[k];
    return out;
  }

  function currentFilters() {
    if (view.name === 'search') return copySearch(view.params, { page: 1 });
    return { q: '', subject: '', grade: '', pack: '', page: 1 };
  }

  function isPrefixState() {
    return !!(canPush && history.state && history.state.prefix);
  }

  function drawSearchRoute(params) {
    var s = searchParams(params);
    var prefix = isPrefixState();
    var url;
    showSearchForm(true);
    if (doc.activeElement !== input) setInput(s.q);
    if (!trim(s.q)) {
      drawHome();
      return;
    }
    lastList = window.location.pathname + window.location.search;
    sessionSet('kho.last', lastList);
    url = searchApi(s, prefix);
    pageTitle(s.q);
    main.setAttribute('data-view', 'search');
    if (!cacheGet(url) && view.name !== 'search') setMain(loadingView(), 'loading');
    view = { name: 'search', key: url, params: s };
    loadMain(url, function (d) { drawResults(s, d); });
  }

  function facetButton(facet, value, count, active) {
    var label = facetLabel(facet, value);
    return h('button', {
      type: 'button', 'class': 'chip', 'data-test': 'facet', 'data-facet': facet, 'data-value': value,
      'data-count': count, 'aria-pressed': active ? 'true' : 'false'
    }, [h('span', { 'class': 'chip-label', text: label }),
      count !== null ? h('span', { 'class': 'count', text: num(count) }) : null]);
  }

  function facetsView(s, facets) {
    var groups = ['subject', 'grade', 'pack'];
    var box = h('details', { id: 'filters', 'class': 'filters' }, h('summary', { text: t('filters') }));
    var i, j, name, list, chips, any = false, seen;
    for (i = 0; i < groups.length; i++) {
      name = groups[i];
      list = (facets && facets[name]) ? facets[name].slice(0) : [];
      if (name === 'grade') list.sort(function (a, b) { return parseInt(a.value, 10) - parseInt(b.value, 10); });
      chips = h('div', { 'class': 'chips', role: 'group', 'aria-labelledby': 'facet-' + name });
      seen = false;
      for (j = 0; j < list.length; j++) {
        if (list[j].value === s[name]) seen = true;
        chips.appendChild(facetButton(name, list[j].value, list[j].count, list[j].value === s[name]));
      }
      if (s[name] && !seen) chips.appendChild(facetButton(name, s[name], null, true));
      if (!chips.firstChild) continue;
      any = true;
      box.appendChild(h('div', { 'class': 'facet', id: 'facet-group-' + name }, [
        h('h2', { id: 'facet-' + name, text: t('facet_' + name) }), chips]));
    }
    if (!any) return null;
    if (filtersOpen()) box.setAttribute('open', '');
    return box;
  }

  var filtersOpenChoice = null;

  function filtersOpen() {
    if (filtersOpenChoice !== null) return filtersOpenChoice;
    return !!(window.matchMedia && window.matchMedia('(min-width: 52em)').matches);
  }

  function activeFiltersView(s) {
    var names = ['subject', 'grade', 'pack'];
    var row = h('div', { 'class': 'active-filters', id: 'active-filters' }, h('span', { text: t('activeFilters') }));
    var i, n = 0, label;
    for (i = 0; i < names.length; i++) {
      if (!s[names[i]]) continue;
      n++;
      label = facetLabel(names[i], s[names[i]]);
      row.appendChild(h('button', {
        type: 'button', 'class': 'chip chip-remove', 'data-test': 'active-filter', 'data-remove': names[i],
        'aria-label': t('removeFilter', label)
      }, [label, h('span', { 'class': 'x', 'aria-hidden': 'true', text: ' ×' })]));
    }
    return n ? row : null;
  }

  function resultItem(r) {
    var url = /^\/lesson\//.test(r.url || '') ? r.url : '/lesson/' + enc(r.pack) + '/' + enc(r.lesson);
    return h('li', { 'class': 'result', 'data-test': 'result', 'data-pack': r.pack, 'data-lesson': r.lesson, lang: packLangs[r.pack] }, [
      h('h2', { 'class': 'result-title' }, h('a', { href: url, text: r.title })),
      r.unit ? h('p', { 'class': 'result-unit', text: r.unit }) : null,
      /* The server escapes the lesson text and adds only <mark> (docs/api.md). */
      r.snippet ? h('p', { 'class': 'snippet', html: r.snippet }) : null,
      h('p', { 'class': 'result-pack', text: packTitle(r.pack) })
    ]);
  }

  function pagerView(s, total) {
    var pages = Math.ceil(total / PAGE_SIZE);
    var maxPage = Math.floor(MAX_OFFSET / PAGE_SIZE) + 1;
    if (pages > maxPage) pages = maxPage;
    if (pages <= 1 && s.page <= 1) return null;
    return h('nav', { 'class': 'pager', 'aria-label': t('pages') }, [
      s.page > 1 ? h('a', { 'class': 'button', id: 'prev-page', rel: 'prev', href: searchPath(copySearch(s, { page: Math.min(s.page - 1, Math.max(pages, 1)) })), text: t('prevPage') })
        : h('span', { 'class': 'pager-gap' }),
      h('span', { 'class': 'pager-where', id: 'page-number', text: t('page', num(s.page), num(Math.max(pages, 1))) }),
      s.page < pages ? h('a', { 'class': 'button', id: 'next-page', rel: 'next', href: searchPath(copySearch(s, { page: s.page + 1 })), text: t('nextPage') })
        : h('span', { 'class': 'pager-gap' })
    ]);
  }

  function drawResults(s, d) {
    var results = d.results || [];
    var total = d.total || 0;
    var filtered = !!(s.subject || s.grade || s.pack);
    var list, i, body, side, summary;
    summary = h('h1', {
      id: 'result-summary', 'data-total': total, 'data-query': s.q
    }, plural('results', total, s.q));
    body = [summary];
    if (d.did_you_mean) {
      body.push(h('p', { id: 'did-you-mean', 'class': 'did-you-mean' }, [t('didYouMean') + ' ',
        h('a', { href: searchPath(copySearch(s, { q: d.did_you_mean, page: 1 })), 'data-test': 'did-you-mean', text: d.did_you_mean }), '?']));
    }
    body.push(activeFiltersView(s));
    if (results.length) {
      list = h('ol', { id: 'results', 'class': 'results', 'data-test': 'results', 'aria-label': t('resultsList') });
      if (d.offset) list.setAttribute('start', d.offset + 1);
      for (i = 0; i < results.length; i++) list.appendChild(resultItem(results[i]));
      body.push(list);
    } else if (total > 0) {
      body.push(h('div', { 'class': 'message', id: 'no-results' }, [h('p', { text: t('noResultsPage') }),
        h('p', {}, h('a', { href: searchPath(copySearch(s, { page: 1 })), text: t('firstPage') }))]));
    } else {
      body.push(h('div', { 'class': 'message', id: 'no-results', 'data-test': 'no-results' }, [
        h('p', { 'class': 'strong', text: t('noResults', s.q) }),
        h('p', { text: filtered ? t('noResultsFiltered') : t('noResultsHint') }),
        filtered ? null : h('p', {}, h('a', { href: '/browse', text: t('browse') }))]));
    }
    body.push(pagerView(s, total));
    side = facetsView(s, d.facets);
    setMain(h('div', { 'class': 'search-layout' }, [
      side ? h('aside', { 'class': 'facets', 'aria-label': t('filters') }, side) : null,
      h('div', { 'class': 'results-col' }, body)
    ]), 'ready');
    setStatus(plural('results', total, s.q));
  }

  /* ---- search as you type, and completions ---- */

  var sugTimer = null;
  var liveTimer = null;
  var sugReq = null;
  var sugActive = -1;

  function stopTyping() {
    clearTimeout(sugTimer);
    clearTimeout(liveTimer);
    if (sugReq) {
      sugReq.abort();
      sugReq = null;
    }
  }

  function closeSuggestions() {
    sugActive = -1;
    setHidden(sugList, true);
    clear(sugList);
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  function showSuggestions(list) {
    var i, s;
    clear(sugList);
    sugActive = -1;
    input.removeAttribute('aria-activedescendant');
    if (!list.length) {
      closeSuggestions();
      return;
    }
    for (i = 0; i < list.length; i++) {
      s = list[i];
      sugList.appendChild(h('li', {
        id: 'suggestion-' + i, role: 'option', 'aria-selected': 'false', 'data-test': 'suggestion',
        'data-url': /^\/lesson\//.test(s.url || '') ? s.url : '/lesson/' + enc(s.pack) + '/' + enc(s.lesson)
      }, [h('span', { 'class': 'sugg-title', text: s.title }), h('span', { 'class': 'sugg-pack', text: packTitle(s.pack) })]));
    }
    setHidden(sugList, false);
    input.setAttribute('aria-expanded', 'true');
  }

  function setActive(i) {
    var items = sugList.childNodes;
    var j;
    if (!items.length) return;
    if (i < -1) i = items.length - 1;
    if (i >= items.length) i = -1;
    sugActive = i;
    for (j = 0; j < items.length; j++) {
      items[j].setAttribute('aria-selected', j === i ? 'true' : 'false');
      items[j].className = j === i ? 'active' : '';
    }
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', items[i].id);
      if (items[i].scrollIntoView && sugList.scrollHeight > sugList.clientHeight) items[i].scrollIntoView(false);
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function chooseSuggestion(li) {
    var url = li.getAttribute('data-url');
    stopTyping();
    closeSuggestions();
    go(url, { focus: true });
  }

  function fetchSuggestions(q) {
    if (sugReq) sugReq.abort();
    sugReq = getJSON('/api/suggest?q=' + enc(q) + '&limit=8', function (err, d) {
      sugReq = null;
      if (err || input.value !== q || doc.activeElement !== input || isHidden(form)) return;
      showSuggestions(d.suggestions || []);
    });
  }

  function liveSearch(q) {
    var s = currentFilters();
    s.q = trim(q);
    go(searchPath(s), { replace: view.name === 'search', state: { prefix: true }, typing: true });
  }

  on(input, 'input', function () {
    var q = input.value;
    stopTyping();
    if (!trim(q)) {
      closeSuggestions();
      liveTimer = setTimeout(function () {
        if (view.name === 'search') go('/', { replace: true });
      }, 250);
      return;
    }
    sugTimer = setTimeout(function () { fetchSuggestions(q); }, 120);
    liveTimer = setTimeout(function () { liveSearch(q); }, 250);
  });

  on(input, 'keydown', function (e) {
    var k = e.keyCode;
    var open = !isHidden(sugList);
    if (k === 40 || k === 38) {            // down, up
      if (!open) return;
      e.preventDefault();
      setActive(sugActive + (k === 40 ? 1 : -1));
    } else if (k === 13) {                 // enter
      if (open && sugActive >= 0) {
        e.preventDefault();
        chooseSuggestion(sugList.childNodes[sugActive]);
      }
    } else if (k === 27) {                 // escape
      if (open) {
        e.preventDefault();
        closeSuggestions();
      }
    }
  });

  on(input, 'blur', function () {
    setTimeout(function () {
      if (doc.activeElement !== input) closeSuggestions();
    }, 150);
  });

  /* Keep the focus in the input while an option is clicked or tapped. */
  on(sugList, 'mousedown', function (e) { e.preventDefault(); });
  on(sugList, 'click', function (e) {
    var li = closest(e.target, function (el) { return el.getAttribute('role') === 'option'; });
    if (li) chooseSuggestion(li);
  });

  on(form, 'submit', function (e) {
    var q = trim(input.value);
    var s;
    e.preventDefault();
    stopTyping();
    closeSuggestions();
    if (!q) return;
    s = currentFilters();
    s.q = q;
    go(searchPath(s), { replace: view.name === 'search' && isPrefixState(), state: { prefix: false }, focus: true });
  });

  /* ---- lesson viewer ---- */

  function backLink() {
    var href = lastList || '/';
    var label = /^\/search/.test(href) ? t('backSearch') : /^\/browse/.test(href) ? t('backBrowse') : t('backHome');
    return h('a', { href: href, id: 'back-link', 'data-test': 'back-link', 'class': 'back' }, label);
  }

  function lessonHead(d) {
    var meta = [];
    var i;
    if (d.unit && d.unit.title) meta.push(d.unit.title);
    meta.push(d.pack_title || packTitle(d.pack));
    if (d.subjects) for (i = 0; i < d.subjects.length; i++) meta.push(subjectName(d.subjects[i]));
    if (d.grades) for (i = 0; i < d.grades.length; i++) meta.push(gradeName(d.grades[i]));
    return h('div', { id: 'lesson-head', 'class': 'lesson-head' }, [
      h('p', { 'class': 'back-row' }, backLink()),
      h('h1', { id: 'lesson-title', 'data-test': 'lesson-title', lang: packLangs[d.pack], text: d.title }),
      h('p', { 'class': 'lesson-meta', id: 'lesson-meta', text: meta.join(' · ') }),
      h('p', { 'class': 'fav-row', id: 'fav-row', hidden: true }),
      d.signed_by ? null : h('p', { 'class': 'lesson-unverified', id: 'lesson-unverified', 'data-test': 'lesson-unverified', text: t('unverified') }),
      h('nav', { 'class': 'lesson-nav', 'aria-label': t('lessonNav') }, [
        d.prev ? h('a', { 'class': 'button', id: 'prev-lesson', 'data-test': 'prev-lesson', rel: 'prev', href: d.prev.url }, [
          h('span', { 'class': 'nav-dir', text: t('prevLesson') }), h('span', { 'class': 'nav-title', text: d.prev.title })])
          : h('span', { 'class': 'nav-gap' }),
        d.next ? h('a', { 'class': 'button', id: 'next-lesson', 'data-test': 'next-lesson', rel: 'next', href: d.next.url }, [
          h('span', { 'class': 'nav-dir', text: t('nextLesson') }), h('span', { 'class': 'nav-title', text: d.next.title })])
          : h('span', { 'class': 'nav-gap' })
      ])
    ]);
  }

  function drawLessonRoute(pack, lesson) {
    var url = '/api/lessons/' + enc(pack) + '/' + enc(lesson);
    var same = view.name === 'lesson' && view.key === url;
    showSearchForm(false);
    main.setAttribute('data-view', 'lesson');
    if (!same && !cacheGet(url)) setMain(loadingView(), 'loading');
    view = { name: 'lesson', key: url, pack: pack, lesson: lesson };
    loadMain(url, function (d) { drawLesson(d, same); });
  }

  function drawLesson(d, same) {
    var head = lessonHead(d);
    var frame = doc.getElementById('lesson-frame');
    var file = String(d.file || '');
    var full;
    pageTitle(d.title);
    /* Redrawing the same lesson (language switch) keeps its frame: moving it would reload it. */
    if (same && frame && frame.getAttribute('src') === file) {
      main.replaceChild(head, doc.getElementById('lesson-head'));
      frame.setAttribute('title', t('lessonFrame', d.title));
      full = doc.getElementById('open-full');
      if (full) full.textContent = t('openFull');
      view.loaded = true;
      fillFav();
      main.setAttribute('data-state', 'ready');
      afterDraw();
      return;
    }
    if (!/^\/files\//.test(file)) {
      drawError({ status: 500, message: 'file' });
      return;
    }
    setMain([
      head,
      h('div', { 'class': 'frame-wrap' },
        h('iframe', {
          id: 'lesson-frame', 'data-test': 'lesson-frame', sandbox: 'allow-scripts allow-popups allow-forms',
          src: file, title: t('lessonFrame', d.title)
        })),
      h('p', { 'class': 'full-row' }, h('a', { id: 'open-full', href: file, target: '_blank', rel: 'noopener', text: t('openFull') }))
    ], 'ready');
    view.loaded = true;
    fillFav();
    recordOpen();
  }

  /* ---- browse: subjects → grades → units and their lessons ---- */

  function drawBrowseRoute(p) {
    var subject = p.subject || '';
    var grade = subject ? p.grade || '' : '';
    var url = '/api/browse';
    showSearchForm(true);
    if (doc.activeElement !== input) setInput('');
    if (subject) url += '?subject=' + enc(subject) + (grade ? '&grade=' + enc(grade) : '');
    if (grade) {
      lastList = window.location.pathname + window.location.search;
      sessionSet('kho.last', lastList);
    }
    main.setAttribute('data-view', 'browse');
    if (!cacheGet(url)) setMain(loadingView(), 'loading');
    view = { name: 'browse', key: url };
    loadMain(url, function (d) { drawBrowse(subject, grade, d); });
  }

  function crumbs(subject, grade) {
    var ol = h('ol');
    ol.appendChild(h('li', {}, subject ? h('a', { href: '/browse', text: t('allSubjects') })
      : h('span', { 'aria-current': 'page', text: t('allSubjects') })));
    if (subject) {
      ol.appendChild(h('li', {}, grade ? h('a', { href: '/browse?subject=' + enc(subject), text: subjectName(subject) })
        : h('span', { 'aria-current': 'page', text: subjectName(subject) })));
    }
    if (grade) ol.appendChild(h('li', {}, h('span', { 'aria-current': 'page', text: gradeName(grade) })));
    return h('nav', { 'class': 'crumbs', 'aria-label': t('breadcrumb') }, ol);
  }

  function drawBrowse(subject, grade, d) {
    var body = [crumbs(subject, grade)];
    var list, ul, i, j, u, sec, ol, title;
    if (!subject) {
      title = t('subjectsHeading');
      list = d.subjects || [];
      body.push(h('h1', { text: title }));
      body.push(list.length ? subjectTiles(list, 'browse-subjects') : h('p', { 'class': 'message', text: t('noLessons') }));
    } else if (!grade) {
      title = subjectName(subject);
      list = (d.grades || []).slice(0);
      list.sort(function (a, b) { return parseInt(a.value, 10) - parseInt(b.value, 10); });
      body.push(h('h1', { text: title }));
      body.push(h('p', { 'class': 'hint', text: t('chooseGrade') }));
      ul = h('ul', { 'class': 'tiles', id: 'browse-grades' });
      for (i = 0; i < list.length; i++) {
        ul.appendChild(h('li', {}, h('a', {
          'class': 'tile', href: '/browse?subject=' + enc(subject) + '&grade=' + enc(list[i].value),
          'data-test': 'browse-grade', 'data-value': list[i].value
        }, [h('span', { 'class': 'tile-name', text: gradeName(list[i].value) }),
          h('span', { 'class': 'tile-count', text: plural('lessons', list[i].count) })])));
      }
      body.push(list.length ? ul : h('p', { 'class': 'message', text: t('noneHere') }));
    } else {
      title = subjectName(subject) + ' · ' + gradeName(grade);
      list = d.units || [];
      body.push(h('h1', { text: title }));
      for (i = 0; i < list.length; i++) {
        u = list[i];
        ol = h('ol', { 'class': 'lesson-list' });
        for (j = 0; j < (u.lessons || []).length; j++) {
          ol.appendChild(h('li', {}, h('a', {
            href: /^\/lesson\//.test(u.lessons[j].url || '') ? u.lessons[j].url : '/lesson/' + enc(u.pack) + '/' + enc(u.lessons[j].lesson),
            'data-test': 'browse-lesson', text: u.lessons[j].title
          })));
        }
        sec = h('section', { 'class': 'unit', 'data-test': 'browse-unit' }, [
          h('h2', { text: u.title || t('otherLessons') }),
          h('p', { 'class': 'unit-pack', text: packTitle(u.pack) }),
          ol
        ]);
        body.push(sec);
      }
      if (!list.length) body.push(h('p', { 'class': 'message', text: t('noneHere') }));
    }
    pageTitle(title);
    setMain(body, 'ready');
  }

  /* ---- teachers' accounts (docs/api.md "Accounts") ---- */

  /* Who is signed in: the header shows the name and "sign out", or "sign in". */
  function setMe(d) {
    me = d && d.name ? d : null;
    meKnown = true;
    favs = null;
    showAccount();
    if (me) loadFavs();
  }

  function showAccount() {
    setHidden(navSignIn, !meKnown || !!me);
    setHidden(navMe, !me);
    setHidden(signOutButton, !me);
    clear(navMe);
    if (me) append(navMe, [h('span', { 'class': 'visually-hidden', text: t('myLessons') + ': ' }), me.name]);
    navMe.setAttribute('title', t('myLessons'));
  }

  function loadFavs() {
    getJSON('/api/favourites', function (err, d) {
      var i, f;
      if (err || !me) return;
      favs = {};
      for (i = 0; i < (d.favourites || []).length; i++) {
        f = d.favourites[i];
        favs[f.pack + '/' + f.lesson] = true;
      }
      fillFav();
    });
  }

  /* The address to go to after signing in: one of the app's own pages. */
  function safeNext(n) {
    return n && /^\/(?!\/)/.test(n) && isAppPath(n) && !/^\/signin/.test(n) ? n : '';
  }

  function here() {
    return window.location.pathname + window.location.search;
  }

  /* A change was refused because the session is over: sign in again. */
  function signInAgain() {
    setMe(null);
    setStatus(t('expired'));
    go('/signin?why=expired&next=' + enc(here()), { replace: true, focus: true });
  }

  function failText(err) {
    return err.network ? t('netError') : t('serverError', err.message);
  }

  /* The lesson's favourite button, for a signed-in teacher; its state is aria-pressed. */
  function fillFav() {
    var row = doc.getElementById('fav-row');
    var on;
    if (!row || view.name !== 'lesson') return;
    clear(row);
    setHidden(row, !(me && favs));
    if (!me || !favs) return;
    on = !!favs[view.pack + '/' + view.lesson];
    append(row, [
      h('button', { type: 'button', 'class': 'button fav', id: 'fav-button', 'data-test': 'favourite', 'aria-pressed': on ? 'true' : 'false' }, [
        h('span', { 'class': 'star', 'aria-hidden': 'true', text: on ? '★' : '☆' }), ' ' + t('favourite')]),
      h('span', { 'class': 'fav-note', id: 'fav-note', 'aria-live': 'polite' })
    ]);
  }

  function toggleFav(btn) {
    var pack = view.pack;
    var lesson = view.lesson;
    var on = btn.getAttribute('aria-pressed') === 'true';
    var note = doc.getElementById('fav-note');
    if (btn.getAttribute('data-busy')) return;
    btn.setAttribute('data-busy', '1');
    request(on ? 'DELETE' : 'POST', on ? '/api/favourites/' + enc(pack) + '/' + enc(lesson) : '/api/favourites',
      on ? null : { pack: pack, lesson: lesson }, function (err) {
        btn.removeAttribute('data-busy');
        if (err && err.status === 401) {
          signInAgain();
          return;
        }
        if (err) {
          if (note) note.textContent = failText(err);
          return;
        }
        if (favs) {
          if (on) delete favs[pack + '/' + lesson];
          else favs[pack + '/' + lesson] = true;
        }
        btn.setAttribute('aria-pressed', on ? 'false' : 'true');
        btn.firstChild.textContent = on ? '☆' : '★';
        if (note) note.textContent = t(on ? 'favRemoved' : 'favAdded');
      });
  }

  /* A signed-in teacher opened the lesson drawn now: it goes into their history. */
  function recordOpen() {
    if (!me || view.name !== 'lesson' || !view.loaded || view.recorded) return;
    view.recorded = true;
    request('POST', '/api/history', { pack: view.pack, lesson: view.lesson }, function () { /* best effort */ });
  }

  /* A lesson's details (its title), from the cache or the API; done(null) if it is gone. */
  function lessonInfo(pack, lesson, done) {
    var url = '/api/lessons/' + enc(pack) + '/' + enc(lesson);
    var d = cacheGet(url);
    if (d) {
      done(d);
      return;
    }
    getJSON(url, function (err, data) {
      if (!err) cachePut(url, data);
      done(err ? null : data);
    });
  }

  function lessonUrl(info, pack, lesson) {
    return info && /^\/lesson\//.test(info.url || '') ? info.url : '/lesson/' + enc(pack) + '/' + enc(lesson);
  }

  /* Home: "Continue: <the lesson opened last>". */
  function showContinue() {
    var my = seq;
    if (!me) return;
    getJSON('/api/history', function (err, d) {
      var first = !err && d.history && d.history[0];
      if (my !== seq || !first) return;
      lessonInfo(first.pack, first.lesson, function (info) {
        var el = doc.getElementById('continue');
        if (my !== seq || !info || !me || !el) return;
        clear(el);
        append(el, [t('continueLesson'), h('a', {
          href: lessonUrl(info, first.pack, first.lesson), id: 'continue-link', 'data-test': 'continue',
          lang: packLangs[first.pack], text: info.title
        })]);
        setHidden(el, false);
      });
    });
  }

  function drawSignIn(p) {
    var next = safeNext(p.next);
    var why = p.why === 'expired' ? t('expired') : p.why === 'need' ? t('signInNeeded') : '';
    view = { name: 'signin', next: next };
    showSearchForm(false);
    main.setAttribute('data-view', 'signin');
    pageTitle(t('signIn'));
    if (!meKnown) {
      setMain(loadingView(), 'loading');
      return;
    }
    if (me) {
      go(next || '/me', { replace: true, focus: true });
      return;
    }
    setMain([
      h('h1', { id: 'signin-heading', text: t('signIn') }),
      why ? h('p', { 'class': 'message', id: 'signin-why', text: why }) : null,
      h('form', { id: 'signin-form', 'class': 'panel form', 'aria-labelledby': 'signin-heading', novalidate: true }, [
        h('div', { 'class': 'field' }, [
          h('label', { 'for': 'signin-name', text: t('nameLabel') }),
          h('input', { type: 'text', id: 'signin-name', name: 'name', 'data-test': 'signin-name', autocomplete: 'username',
            autocapitalize: 'none', autocorrect: 'off', spellcheck: 'false', maxlength: 100 })]),
        h('div', { 'class': 'field' }, [
          h('label', { 'for': 'signin-password', text: t('passwordLabel') }),
          h('input', { type: 'password', id: 'signin-password', name: 'password', 'data-test': 'signin-password',
            autocomplete: 'current-password', maxlength: 1000 })]),
        h('div', { id: 'signin-error', 'data-test': 'signin-error', role: 'alert' }),
        h('button', { type: 'submit', 'class': 'button primary', id: 'signin-submit', text: t('signIn') })
      ]),
      h('p', { 'class': 'hint', text: t('signInHint') })
    ], 'ready');
  }

  function signInError(text) {
    var box = doc.getElementById('signin-error');
    var pw = doc.getElementById('signin-password');
    var i, f = [doc.getElementById('signin-name'), pw];
    if (!box) return;
    clear(box);
    box.className = text ? 'message error' : '';
    if (text) box.appendChild(h('p', { text: text }));
    for (i = 0; i < f.length; i++) {
      if (text) {
        f[i].setAttribute('aria-invalid', 'true');
        f[i].setAttribute('aria-describedby', 'signin-error');
      } else {
        f[i].removeAttribute('aria-invalid');
        f[i].removeAttribute('aria-describedby');
      }
    }
  }

  function submitSignIn(f) {
    var name = trim(f.elements.name.value);
    var pw = f.elements.password.value;
    var button = doc.getElementById('signin-submit');
    var next = view.next;
    if (!name || !pw) {
      signInError(t('needName'));
      (name ? f.elements.password : f.elements.name).focus();
      return;
    }
    if (button.disabled) return;
    button.disabled = true;
    button.textContent = t('signingIn');
    request('POST', '/api/login', { name: name, password: pw }, function (err, d) {
      button.disabled = false;
      button.textContent = t('signIn');
      if (err) {
        f.elements.password.value = '';
        signInError(err.status === 401 ? t('wrongPassword') : err.status === 429 ? t('tooMany') : failText(err));
        f.elements.password.focus();
        return;
      }
      setMe(d);
      if (d.lang && d.lang !== lang) setLanguage(d.lang);
      showAccount();
      setStatus(t('signedIn', d.name));
      go(next || '/', { replace: true, focus: true });
    });
  }

  function signOut() {
    request('POST', '/api/logout', null, function (err) {
      if (err && err.status !== 401) {
        setStatus(failText(err));
        return;
      }
      setMe(null);
      setStatus(t('signedOut'));
      if (view.name === 'me') {
        go('/', { replace: true });
      } else {
        pending = { refocus: null };
        route();
      }
      navSignIn.focus();
    });
  }

  /* The grades the box has, over its subjects: done(err, {subjects: [...], grades: [...]}). */
  function loadSubjectsGrades(done) {
    function get(url, cb) {
      var d = cacheGet(url);
      if (d) {
        cb(null, d);
        return;
      }
      getJSON(url, function (err, data) {
        if (!err) cachePut(url, data);
        cb(err, data);
      });
    }
    get('/api/browse', function (err, d) {
      var subjects = [];
      var grades = {};
      var left, i, failed = null;
      if (err) {
        done(err);
        return;
      }
      for (i = 0; i < (d.subjects || []).length; i++) subjects.push(d.subjects[i].value);
      left = subjects.length;
      function one(err2, g) {
        var j;
        if (err2) failed = err2;
        else for (j = 0; j < (g.grades || []).length; j++) grades[g.grades[j].value] = true;
        if (--left > 0) return;
        done(failed, { subjects: subjects, grades: keysOf(grades) });
      }
      if (!left) done(null, { subjects: [], grades: [] });
      for (i = 0; i < subjects.length; i++) get('/api/browse?subject=' + enc(subjects[i]), one);
    });
  }

  function keysOf(o) {
    var out = [];
    var k;
    for (k in o) if (o.hasOwnProperty(k)) out.push(k);
    return out;
  }

  function words(s) {
    return trim(s || '') ? trim(s).split(/\s+/) : [];
  }

  var profileNote = '';

  /* My lessons: what was opened last, the favourites, and the profile. */
  function drawMe() {
    var my = seq;
    var got = {};
    var left = 3;
    view = { name: 'me' };
    showSearchForm(true);
    if (doc.activeElement !== input) setInput('');
    main.setAttribute('data-view', 'me');
    pageTitle(t('myLessons'));
    if (!meKnown) {
      setMain(loadingView(), 'loading');
      return;
    }
    if (!me) {
      go('/signin?why=need&next=%2Fme', { replace: true, focus: true });
      return;
    }
    if (main.getAttribute('data-state') !== 'ready' || !doc.getElementById('profile-form')) setMain(loadingView(), 'loading');
    function one(name) {
      return function (err, d) {
        if (my !== seq) return;
        got[name] = d;
        if (err) got.err = got.err || err;
        if (--left === 0) withTitles();
      };
    }
    function withTitles() {
      var items, i, n, key, infos = {}, keys = [];
      if (got.err) {
        if (got.err.status === 401) signInAgain();
        else drawError(got.err);
        return;
      }
      items = (got.history.history || []).slice(0, 10).concat((got.favs.favourites || []).slice(0, 100));
      for (i = 0; i < items.length; i++) {
        key = items[i].pack + '/' + items[i].lesson;
        if (!infos.hasOwnProperty(key)) {
          infos[key] = null;
          keys.push(items[i]);
        }
      }
      n = keys.length;
      if (!n) drawMePage(got, infos);
      for (i = 0; i < keys.length; i++) {
        (function (it) {
          lessonInfo(it.pack, it.lesson, function (info) {
            if (my !== seq) return;
            infos[it.pack + '/' + it.lesson] = info;
            if (--n === 0) drawMePage(got, infos);
          });
        }(keys[i]));
      }
    }
    getJSON('/api/history', one('history'));
    getJSON('/api/favourites', one('favs'));
    loadSubjectsGrades(one('box'));
  }

  function lessonList(list, infos, id, max) {
    var ul = h('ul', { 'class': 'my-list', id: id, 'data-test': id });
    var i, it, info;
    for (i = 0; i < list.length && i < max; i++) {
      it = list[i];
      info = infos[it.pack + '/' + it.lesson];
      ul.appendChild(h('li', { 'data-pack': it.pack, 'data-lesson': it.lesson }, info ? [
        h('a', { href: lessonUrl(info, it.pack, it.lesson), lang: packLangs[it.pack], text: info.title }),
        h('span', { 'class': 'my-pack', text: info.pack_title || packTitle(it.pack) })
      ] : [h('span', { text: it.pack + ' / ' + it.lesson + ' ' }), h('span', { 'class': 'my-pack', text: t('lessonGone') })]));
    }
    return ul;
  }

  function checks(legend, name, values, chosen, label) {
    var box = h('div', { 'class': 'checks' });
    var i;
    for (i = 0; i < values.length; i++) {
      box.appendChild(h('label', { 'class': 'check' }, [
        h('input', { type: 'checkbox', name: name, value: values[i], checked: chosen[values[i]] }), ' ' + label(values[i])]));
    }
    return h('fieldset', { id: 'profile-' + name }, [h('legend', { text: legend }), box]);
  }

  function toSet(list) {
    var o = {};
    var i;
    for (i = 0; i < list.length; i++) o[list[i]] = true;
    return o;
  }

  function drawMePage(got, infos) {
    var hist = got.history.history || [];
    var fav = got.favs.favourites || [];
    var myGrades = words(me.grades);
    var mySubjects = words(me.subjects);
    var grades = keysOf(toSet(got.box.grades.concat(myGrades)));
    var subjects = got.box.subjects.slice(0);
    var i, note;
    /* Keep what the profile holds even if the box has no such lessons now. */
    for (i = 0; i < mySubjects.length; i++) if (!toSet(subjects)[mySubjects[i]]) subjects.push(mySubjects[i]);
    grades.sort(function (a, b) { return parseInt(a, 10) - parseInt(b, 10); });
    setMain([
      h('h1', { id: 'me-heading', text: t('myLessons') }),
      h('p', { 'class': 'hint', text: t('signedIn', me.name) }),
      h('section', { 'class': 'panel', 'aria-labelledby': 'recent-heading' }, [
        h('h2', { id: 'recent-heading', text: t('recent') }),
        hist.length ? lessonList(hist, infos, 'history-list', 10) : h('p', { text: t('noHistory') })]),
      h('section', { 'class': 'panel', 'aria-labelledby': 'fav-heading' }, [
        h('h2', { id: 'fav-heading', text: t('favourites') }),
        fav.length ? lessonList(fav, infos, 'favourite-list', 100) : h('p', { text: t('noFavourites') })]),
      h('section', { 'class': 'panel', 'aria-labelledby': 'profile-heading' }, [
        h('h2', { id: 'profile-heading', text: t('profile') }),
        h('form', { id: 'profile-form', 'class': 'form', 'aria-labelledby': 'profile-heading' }, [
          checks(t('profileGrades'), 'grade', grades, toSet(myGrades), gradeName),
          checks(t('profileSubjects'), 'subject', subjects, toSet(mySubjects), subjectName),
          h('fieldset', { id: 'profile-lang' }, [h('legend', { text: t('profileLang') }), h('div', { 'class': 'checks' }, [
            h('label', { 'class': 'check', lang: 'vi' }, [h('input', { type: 'radio', name: 'lang', value: 'vi', checked: me.lang !== 'en' }), ' Tiếng Việt']),
            h('label', { 'class': 'check', lang: 'en' }, [h('input', { type: 'radio', name: 'lang', value: 'en', checked: me.lang === 'en' }), ' English'])])]),
          h('p', { 'class': 'form-end' }, [
            h('button', { type: 'submit', 'class': 'button primary', id: 'profile-save', text: t('saveProfile') }),
            note = h('span', { 'class': 'form-note', id: 'profile-note', 'data-test': 'profile-note', 'aria-live': 'polite' })])
        ])])
    ], 'ready');
    if (profileNote) {
      setTimeout(function () { note.textContent = profileNote; profileNote = ''; }, 50);
    }
  }

  function checked(f, name) {
    var els = f.querySelectorAll('input[name="' + name + '"]');
    var out = [];
    var i;
    for (i = 0; i < els.length; i++) if (els[i].checked) out.push(els[i].value);
    return out;
  }

  function saveProfile(f) {
    var button = doc.getElementById('profile-save');
    var note = doc.getElementById('profile-note');
    var l = checked(f, 'lang')[0] || lang;
    if (button.disabled) return;
    button.disabled = true;
    note.textContent = '';
    request('POST', '/api/me', { grades: checked(f, 'grade').join(' '), subjects: checked(f, 'subject').join(' '), lang: l }, function (err, d) {
      button.disabled = false;
      if (err && err.status === 401) {
        signInAgain();
        return;
      }
      if (err) {
        note.textContent = failText(err);
        return;
      }
      if (!d.csrf) d.csrf = me.csrf;
      me = d;
      if (d.lang && d.lang !== lang) {
        setLanguage(d.lang);
        showAccount();
        profileNote = t('saved');
        pending = { refocus: '#profile-save' };
        route();
        return;
      }
      note.textContent = t('saved');
    });
  }

  /* ---- language ---- */

  function applyLanguage() {
    var els = doc.querySelectorAll('[data-i18n]');
    var labels = doc.querySelectorAll('[data-i18n-label]');
    var sw = doc.getElementById('lang-switch');
    var i;
    doc.documentElement.setAttribute('lang', lang);
    for (i = 0; i < els.length; i++) els[i].textContent = t(els[i].getAttribute('data-i18n'));
    for (i = 0; i < labels.length; i++) labels[i].setAttribute('aria-label', t(labels[i].getAttribute('data-i18n-label')));
    input.setAttribute('placeholder', t('placeholder'));
    sugList.setAttribute('aria-label', t('suggestions'));
    sw.textContent = t('other');
    showAccount();
    sw.setAttribute('lang', lang === 'vi' ? 'en' : 'vi');
  }

  function setLanguage(l) {
    lang = l === 'en' ? 'en' : 'vi';
    store('kho.lang', lang);
    applyLanguage();
  }

  /* ---- events for the whole page ---- */

  on(doc, 'click', function (e) {
    var a, href, target, n, remove, s, facet, value, changes;
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    target = e.target;
    a = closest(target, function (el) { return el.tagName === 'A'; });
    if (a) {
      href = a.getAttribute('href');
      if (!href || a.getAttribute('target') || !isAppPath(href)) return;
      e.preventDefault();
      /* Back to the list the reader came from: go back in history, where it is and
         scrolled as it was. */
      n = canPush && history.state && history.state.back;
      if (a.id === 'back-link' && n && href === lastList) {
        history.go(-n);
        return;
      }
      go(href, { focus: true });
      return;
    }
    target = closest(target, function (el) { return el.tagName === 'BUTTON'; });
    if (!target) return;
    if (target.id === 'lang-switch') {
      setLanguage(lang === 'vi' ? 'en' : 'vi');
      pending = { refocus: null };
      route();
      return;
    }
    if (target.getAttribute('data-action') === 'retry') {
      route();
      return;
    }
    if (target.id === 'sign-out') {
      signOut();
      return;
    }
    if (target.id === 'fav-button') {
      toggleFav(target);
      return;
    }
    if (view.name !== 'search') return;
    s = view.params;
    facet = target.getAttribute('data-facet');
    remove = target.getAttribute('data-remove');
    changes = { page: 1 };
    if (facet) {
      value = target.getAttribute('data-value');
      changes[facet] = s[facet] === value ? '' : value;
      go(searchPath(copySearch(s, changes)), {
        state: { prefix: isPrefixState() },
        refocus: '[data-facet="' + facet + '"][data-value="' + value.replace(/["\\]/g, '') + '"]'
      });
    } else if (remove) {
      changes[remove] = '';
      go(searchPath(copySearch(s, changes)), { state: { prefix: isPrefixState() }, refocus: 'h1' });
    }
  });

  on(main, 'submit', function (e) {
    var f = e.target;
    if (f.id === 'signin-form') {
      e.preventDefault();
      submitSignIn(f);
    } else if (f.id === 'profile-form') {
      e.preventDefault();
      saveProfile(f);
    }
  });

  /* The filters stay open or closed as the reader left them. */
  on(main, 'click', function (e) {
    var sum = closest(e.target, function (el) { return el.tagName === 'SUMMARY'; });
    var det = sum && sum.parentNode;
    if (det && det.id === 'filters') {
      setTimeout(function () { filtersOpenChoice = det.hasAttribute('open'); }, 0);
    }
  });

  on(window, 'popstate', function () {
    var st = history.state;
    stopTyping();
    pending = { scroll: st && typeof st.y === 'number' ? st.y : 0 };
    route();
  });

  /* ---- start ---- */

  /* The home page's line about the last update from the central library. */
  function showSyncStatus() {
    var el = doc.getElementById('sync-status');
    if (!el || syncInfo === undefined) return;
    el.textContent = syncInfo ? t('syncLast') +
      new Date(syncInfo.synced_at * 1000).toLocaleDateString(lang === 'en' ? 'en-GB' : 'vi-VN')
      : t('syncNever');
  }

  function start() {
    var l = stored('kho.lang');
    if (!l) l = 'vi';
    lastList = sessionGet('kho.last') || '';
    if (canPush && 'scrollRestoration' in history) history.scrollRestoration = 'manual';
    setLanguage(l);
    route();
    getJSON('/api/me', function (err, d) {
      setMe(err ? null : d);
      /* The pages that waited for it, and the lesson's button and history. */
      if (view.name === 'signin' || view.name === 'me') route();
      else if (view.name === 'home') showContinue();
      else if (view.name === 'lesson') recordOpen();
    });
    getJSON('/api/info', function (err, d) {
      if (err || !d) return;
      schoolName = d.name ? String(d.name) : null;
      syncInfo = d.sync || null;
      showSyncStatus();
      doc.getElementById('school-name').textContent = schoolName || 'kho';
      if (view.name === 'home') pageTitle('');
      else if (doc.title.indexOf(' — ') > 0) doc.title = doc.title.replace(/ — [^—]*$/, ' — ' + (schoolName || 'kho'));
    });
    getJSON('/api/packs', function (err, d) {
      var i, p;
      if (err || !d || !d.packs) return;
      for (i = 0; i < d.packs.length; i++) {
        p = d.packs[i];
        packTitles[p.id] = p.title;
        if (p.lang && p.lang !== 'und') packLangs[p.id] = p.lang;
      }
      /* Redraw with the packs' titles where they are shown, from the cache. */
      if ((view.name === 'search' || view.name === 'browse' || view.name === 'lesson') && main.getAttribute('data-state') === 'ready') {
        pending = { refocus: null };
        route(doc.activeElement === input);
      }
    });
  }

  start();
}());
