/* kho: the teachers' web app. One page that the box serves at /, /search, /browse,
   /lesson/…, /signin and /me… (a teacher's lessons, collections and, for an administrator,
   the school's suggested subscriptions); it draws each of those routes from the JSON API in
   docs/api.md. Plain ES5 with
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
      saved: 'Đã lưu hồ sơ.',
      homeContinue: 'Tiếp tục',
      homeNext: 'Bài tiếp theo trong chủ đề của bạn',
      homeAfter: 'Sau bài “{0}”',
      homeRelated: 'Bài liên quan',
      homeBecause: 'Vì bạn đã mở “{0}”',
      homePopular: 'Được mở nhiều ở trường tuần này',
      teachers: '{0} giáo viên',
      teachers1: '{0} giáo viên',
      collections: 'Bộ sưu tập',
      myCollections: 'Bộ sưu tập của tôi',
      sharedWithMe: 'Giáo viên khác chia sẻ',
      noCollections: 'Bạn chưa có bộ sưu tập nào. Mở một bài học rồi bấm “Thêm vào bộ sưu tập”, hoặc tạo mới ở đây.',
      newCollection: 'Bộ sưu tập mới',
      newCollectionOpt: '+ Bộ sưu tập mới…',
      collectionName: 'Tên bộ sưu tập',
      create: 'Tạo',
      needCollectionName: 'Hãy đặt tên cho bộ sưu tập.',
      addToCollection: 'Thêm vào bộ sưu tập',
      add: 'Thêm',
      close: 'Đóng',
      addedTo: 'Đã thêm vào “{0}”.',
      alreadyIn: 'Bài này đã có trong “{0}”.',
      seeCollection: 'Xem bộ sưu tập',
      byOwner: 'của {0}',
      isShared: 'Đang chia sẻ',
      isPrivate: 'Riêng tư',
      sharedNote: 'Mọi giáo viên của trường đều xem được bộ sưu tập này.',
      privateNote: 'Chỉ bạn xem được bộ sưu tập này.',
      readOnly: 'Bộ sưu tập của {0}, chia sẻ với cả trường. Bạn chỉ xem được, không sửa được.',
      share: 'Chia sẻ với giáo viên trong trường',
      emptyCollection: 'Bộ sưu tập chưa có bài nào. Mở một bài học rồi bấm “Thêm vào bộ sưu tập”.',
      moveUp: '↑ Lên',
      moveDown: '↓ Xuống',
      removeItem: 'Bỏ',
      moveUpOf: 'Chuyển “{0}” lên',
      moveDownOf: 'Chuyển “{0}” xuống',
      removeOf: 'Bỏ “{0}” khỏi bộ sưu tập',
      moved: 'Đã chuyển “{0}” đến vị trí {1}.',
      removed: 'Đã bỏ “{0}”.',
      rename: 'Đổi tên',
      renamed: 'Đã đổi tên.',
      download: 'Tải về dạng bộ bài (.kho)',
      downloadHint: 'Tệp .kho cài được trên máy kho của trường khác bằng “kho import”.',
      sendCentre: 'Gửi lên kho trung tâm',
      sending: 'Đang gửi…',
      queued: 'Đã xếp vào hộp thư đi ({0}). Lần cập nhật tới, máy sẽ gửi lên kho trung tâm để xem xét.',
      deleteCollection: 'Xoá bộ sưu tập',
      deleteAsk: 'Xoá hẳn “{0}”? Các bài học vẫn còn trên máy.',
      deleteYes: 'Xoá',
      cancel: 'Huỷ',
      deleted: 'Đã xoá bộ sưu tập “{0}”.',
      backCollections: '← Về các bộ sưu tập',
      backCollection: '← Về bộ sưu tập',
      backMe: '← Về bài của tôi',
      suggestHeading: 'Gợi ý đăng ký',
      suggestHint: 'Các bộ bài này có ở kho trung tâm nhưng chưa có trên máy; chúng hợp với lớp và môn mà giáo viên chọn trong hồ sơ. Chọn rồi bấm “Đồng ý”: lần cập nhật tới, máy sẽ cài các bộ bài đó.',
      notSynced: 'Máy chưa cập nhật từ kho trung tâm lần nào, nên chưa có gợi ý.',
      noSuggestions: 'Không có gợi ý mới.',
      accept: 'Đồng ý',
      chooseSome: 'Hãy chọn ít nhất một bộ bài.',
      accepted: 'Đã đăng ký {0} bộ bài. Lần cập nhật tới, máy sẽ cài chúng.',
      teachersWant: '{0} giáo viên dạy lớp và môn này',
      teachersWant1: '{0} giáo viên dạy lớp và môn này',
      colOut: 'Tải về và gửi đi',
      colSettings: 'Sửa bộ sưu tập',
      collectionMissing: 'Không có bộ sưu tập này, hoặc chủ của nó không chia sẻ.'
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
      saved: 'Profile saved.',
      homeContinue: 'Continue',
      homeNext: 'Next in your units',
      homeAfter: 'After “{0}”',
      homeRelated: 'Related',
      homeBecause: 'Because you opened “{0}”',
      homePopular: 'Popular at this school this week',
      teachers: '{0} teachers',
      teachers1: '{0} teacher',
      collections: 'Collections',
      myCollections: 'My collections',
      sharedWithMe: 'Shared by other teachers',
      noCollections: 'You have no collections yet. Open a lesson and press “Add to collection”, or make one here.',
      newCollection: 'New collection',
      newCollectionOpt: '+ New collection…',
      collectionName: 'Collection name',
      create: 'Create',
      needCollectionName: 'Give the collection a name.',
      addToCollection: 'Add to collection',
      add: 'Add',
      close: 'Close',
      addedTo: 'Added to “{0}”.',
      alreadyIn: 'This lesson is already in “{0}”.',
      seeCollection: 'See the collection',
      byOwner: 'by {0}',
      isShared: 'Shared',
      isPrivate: 'Private',
      sharedNote: 'Every teacher of the school can see this collection.',
      privateNote: 'Only you can see this collection.',
      readOnly: 'A collection of {0}, shared with the school. You can read it but not change it.',
      share: 'Share with the school’s teachers',
      emptyCollection: 'This collection has no lessons yet. Open a lesson and press “Add to collection”.',
      moveUp: '↑ Up',
      moveDown: '↓ Down',
      removeItem: 'Remove',
      moveUpOf: 'Move “{0}” up',
      moveDownOf: 'Move “{0}” down',
      removeOf: 'Remove “{0}” from the collection',
      moved: 'Moved “{0}” to position {1}.',
      removed: 'Removed “{0}”.',
      rename: 'Rename',
      renamed: 'Renamed.',
      download: 'Download as pack (.kho)',
      downloadHint: 'Another school’s kho box installs the .kho file with “kho import”.',
      sendCentre: 'Send to the centre',
      sending: 'Sending…',
      queued: 'Queued in the outbox ({0}). At the next update the box sends it to the centre for review.',
      deleteCollection: 'Delete collection',
      deleteAsk: 'Delete “{0}” for good? The lessons stay on the box.',
      deleteYes: 'Delete',
      cancel: 'Cancel',
      deleted: 'Deleted the collection “{0}”.',
      backCollections: '← Back to collections',
      backCollection: '← Back to the collection',
      backMe: '← Back to my lessons',
      suggestHeading: 'Suggested subscriptions',
      suggestHint: 'These packs are in the central library but not on this box, and fit the grades and subjects teachers chose in their profiles. Tick them and press “Accept”: the next update installs them.',
      notSynced: 'This box has not synced with the central library yet, so there are no suggestions.',
      noSuggestions: 'No new suggestions.',
      accept: 'Accept',
      chooseSome: 'Choose at least one pack.',
      accepted: 'Subscribed to {0} pack(s). The next update installs them.',
      teachersWant: '{0} teachers teach these',
      teachersWant1: '{0} teacher teaches these',
      colOut: 'Download and send',
      colSettings: 'Edit the collection',
      collectionMissing: 'There is no such collection, or its owner does not share it.'
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
    if (err.status === 404 && view.name === 'collection') return t('collectionMissing');
    return t('serverError', err.message);
  }

  function drawError(err) {
    var missing = err.status === 404;
    var box = h('div', { 'class': 'message error', id: 'error', 'data-test': 'error', role: 'alert' }, [
      h('p', { text: errorText(err) }),
      missing ? null : h('button', { type: 'button', 'class': 'button', 'data-action': 'retry', text: t('retry') })
    ]);
    setMain(view.name === 'lesson' ? [h('p', { 'class': 'back-row' }, backLink()), box]
      : view.name === 'collection' ? [h('p', { 'class': 'back-row' }, h('a', { href: '/me/collections', 'class': 'back', text: t('backCollections') })), box]
      : box, 'error');
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
    return /^\/(\?|$|search(\?|$)|browse(\?|\/?$)|lesson\/|signin(\?|$)|me(\/collections(\/\d+)?)?$)/.test(href);
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
      if (view.name === 'search' || view.name === 'browse' || view.name === 'collection') state.back = 1;
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
    if (/^\/me(\/|$)/.test(path)) navMe.setAttribute('aria-current', 'page');
    else navMe.removeAttribute('aria-current');
    if (path === '/signin') navSignIn.setAttribute('aria-current', 'page');
    else navSignIn.removeAttribute('aria-current');
    /* Signing in from a page comes back to it. */
    if (path !== '/signin' && !/^\/me(\/|$)/.test(path)) navSignIn.setAttribute('href', '/signin?next=' + enc(path + window.location.search));
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
    } else if (path === '/me/collections') {
      drawCollections();
    } else if ((m = /^\/me\/collections\/(\d+)$/.exec(path))) {
      drawCollectionRoute(m[1]);
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
        h('p', { 'class': 'hint', text: t('hint') })
      ]),
      h('div', { id: 'personal', 'data-test': 'personal', hidden: true }),
      h('section', { 'aria-labelledby': 'subjects-heading' }, [
        h('h2', { id: 'subjects-heading', text: t('subjectsHeading') }),
        box
      ]),
      h('p', { id: 'sync-status', 'data-test': 'sync-status', 'class': 'hint' })
    ], 'loading');
    showSyncStatus();
    showPersonal();
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
    var label = /^\/search/.test(href) ? t('backSearch') : /^\/browse/.test(href) ? t('backBrowse')
      : /^\/me\/collections/.test(href) ? t('backCollection') : t('backHome');
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
      h('div', { 'class': 'fav-row', id: 'fav-row', hidden: true }),
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
      ' ',
      h('button', { type: 'button', 'class': 'button fav', id: 'collect-button', 'data-test': 'add-to-collection',
        'aria-expanded': 'false', 'aria-controls': 'collect-panel' }, [h('span', { 'aria-hidden': 'true', text: '+ ' }), t('addToCollection')]),
      h('span', { 'class': 'fav-note', id: 'fav-note', 'aria-live': 'polite' }),
      h('div', { id: 'collect-panel', hidden: true })
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
    var url = '/api/lessons/' + enc(pack) + '/' + enc(lesson) + '?peek=1';
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

  /* Home for a signed-in teacher: what to continue, what comes next in their units, lessons
     like the last one and what the school opens this week, from one GET /api/home. Lists
     that are empty are not shown. */
  function showPersonal() {
    var my = seq;
    if (!me) return;
    getJSON('/api/home', function (err, d) {
      var box = doc.getElementById('personal');
      var parts = [];
      var rel;
      if (my !== seq || err || !me || !box) return;
      parts.push(homeList('continue', t('homeContinue'), d['continue'], null, function (it, i) {
        return i === 0 ? 'continue-link' : null;
      }));
      parts.push(homeList('next', t('homeNext'), d.next, null, null, function (it) {
        return it.after ? t('homeAfter', it.after) : '';
      }));
      rel = d.related || [];
      parts.push(homeList('related', t('homeRelated'), rel, rel.length && rel[0].because ? t('homeBecause', rel[0].because) : '', null,
        function (it) {
          return it.because && it.because !== rel[0].because ? t('homeBecause', it.because) : '';
        }));
      parts.push(homeList('popular', t('homePopular'), d.popular, null, null, function (it) {
        return typeof it.teachers === 'number' ? plural('teachers', it.teachers) : '';
      }));
      clear(box);
      append(box, parts);
      setHidden(box, !box.firstChild);
    });
  }

  /* One section of the home page: its heading, a line under it, and its lessons, each
     with the unit, the pack and a note (why it is here). */
  function homeList(name, heading, list, sub, idOf, noteOf) {
    var ul, i, it, note, id;
    list = list || [];
    if (!list.length) return null;
    ul = h('ul', { 'class': 'my-list home-list', id: 'home-' + name + '-list', 'data-test': 'home-' + name });
    for (i = 0; i < list.length; i++) {
      it = list[i];
      note = noteOf ? noteOf(it) : '';
      id = idOf ? idOf(it, i) : null;
      ul.appendChild(h('li', { 'data-pack': it.pack, 'data-lesson': it.lesson }, [
        h('a', { href: lessonUrl(it, it.pack, it.lesson), id: id, lang: packLangs[it.pack], text: it.title }),
        h('span', { 'class': 'my-pack', text: (it.unit ? it.unit + ' · ' : '') + packTitle(it.pack) }),
        note ? h('span', { 'class': 'my-note', text: note }) : null
      ]));
    }
    return h('section', { 'class': 'panel', id: 'home-' + name, 'aria-labelledby': 'home-' + name + '-heading' }, [
      h('h2', { id: 'home-' + name + '-heading', text: heading }),
      sub ? h('p', { 'class': 'hint', text: sub }) : null,
      ul
    ]);
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
      if (/^(me|collections|collection)$/.test(view.name)) {
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
      h('p', {}, h('a', { 'class': 'button', href: '/me/collections', id: 'me-collections', 'data-test': 'my-collections' }, [
        h('span', { 'aria-hidden': 'true', text: '▤ ' }), t('collections')])),
      me.role === 'admin' ? h('section', { 'class': 'panel', id: 'school-panel', 'data-test': 'school-panel', 'aria-labelledby': 'suggest-heading' }, [
        h('h2', { id: 'suggest-heading', text: t('suggestHeading') }),
        h('div', { id: 'school-body' }, h('p', { 'class': 'loading', text: t('loading') }))]) : null,
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
    if (me.role === 'admin') loadSuggestions();
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

  /* ---- collections (docs/api.md "Collections") ---- */

  function colPath(id) {
    return '/me/collections/' + id;
  }

  function colApi(id) {
    return '/api/collections/' + enc(id);
  }

  /* A request as the signed-in teacher: a 401 sends them to sign in again. */
  function send(method, url, body, done) {
    return request(method, url, body, function (err, d) {
      if (err && err.status === 401) {
        signInAgain();
        return;
      }
      done(err, d);
    });
  }

  /* Pages that need an account: wait for /api/me, or send an anonymous reader to sign in. */
  function needMe(path) {
    if (!meKnown) {
      setMain(loadingView(), 'loading');
      return false;
    }
    if (!me) {
      go('/signin?why=need&next=' + enc(path), { replace: true, focus: true });
      return false;
    }
    return true;
  }

  /* Like loadMain, without the cache: these pages change. */
  function loadFresh(url, draw) {
    var my = seq;
    setMain(loadingView(), 'loading');
    main.setAttribute('aria-busy', 'true');
    mainReq = getJSON(url, function (err, d) {
      mainReq = null;
      if (my !== seq) return;
      main.removeAttribute('aria-busy');
      if (err && err.status === 401) signInAgain();
      else if (err) drawError(err);
      else draw(d);
    });
  }

  function lessonsOf(c) {
    return plural('lessons', c.count);
  }

  /* The lesson page's "Add to collection": one of the teacher's own collections, or a new one. */
  function toggleCollect(btn) {
    var panel = doc.getElementById('collect-panel');
    if (!panel) return;
    if (btn.getAttribute('aria-expanded') === 'true') {
      closeCollect();
      return;
    }
    btn.setAttribute('aria-expanded', 'true');
    clear(panel);
    panel.className = 'panel collect';
    panel.appendChild(h('p', { 'class': 'loading', text: t('loading') }));
    setHidden(panel, false);
    send('GET', '/api/collections', null, function (err, d) {
      if (view.name !== 'lesson' || btn.getAttribute('aria-expanded') !== 'true' || !panel.parentNode) return;
      clear(panel);
      if (err) panel.appendChild(h('p', { 'class': 'message error', role: 'alert', text: failText(err) }));
      else collectForm(panel, d.collections || []);
    });
  }

  function closeCollect() {
    var btn = doc.getElementById('collect-button');
    var panel = doc.getElementById('collect-panel');
    if (!btn || !panel) return;
    btn.setAttribute('aria-expanded', 'false');
    setHidden(panel, true);
    clear(panel);
    btn.focus();
  }

  function collectOption(c) {
    return h('option', { value: c.id, 'data-count': c.count, text: c.name + ' (' + lessonsOf(c) + ')' });
  }

  function collectForm(panel, list) {
    var sel = h('select', { id: 'collect-choice', name: 'collection', 'data-test': 'collect-choice' });
    var own = 0;
    var i;
    for (i = 0; i < list.length; i++) {
      if (!list[i].mine) continue;
      own++;
      sel.appendChild(collectOption(list[i]));
    }
    sel.appendChild(h('option', { value: 'new', text: t('newCollectionOpt') }));
    append(panel, h('form', { id: 'collect-form', 'class': 'form', 'aria-label': t('addToCollection') }, [
      h('div', { 'class': 'field', id: 'collect-pick', hidden: !own }, [h('label', { 'for': 'collect-choice', text: t('collections') }), sel]),
      h('div', { 'class': 'field', id: 'collect-new', hidden: !!own }, [
        h('label', { 'for': 'collect-name', text: t('collectionName') }),
        h('input', { type: 'text', id: 'collect-name', name: 'name', 'data-test': 'collect-name', maxlength: 200, autocomplete: 'off' })]),
      h('p', { 'class': 'form-end' }, [
        h('button', { type: 'submit', 'class': 'button primary', id: 'collect-submit', 'data-test': 'collect-submit', text: t('add') }), ' ',
        h('button', { type: 'button', 'class': 'button', id: 'collect-close', text: t('close') })]),
      h('p', { id: 'collect-note', 'class': 'collect-note', 'data-test': 'collect-note', 'aria-live': 'polite' })
    ]));
    (own ? sel : doc.getElementById('collect-name')).focus();
  }

  function collectChoice(sel) {
    var isNew = sel.value === 'new';
    setHidden(doc.getElementById('collect-new'), !isNew);
  }

  function submitCollect(f) {
    var sel = f.elements.collection;
    var nameInput = f.elements.name;
    var name = trim(nameInput.value);
    var note = doc.getElementById('collect-note');
    var button = doc.getElementById('collect-submit');
    var pack = view.pack;
    var lesson = view.lesson;
    var opt;
    function say(text, error) {
      clear(note);
      note.className = error ? 'collect-note error' : 'collect-note';
      append(note, text);
    }
    function fail(err) {
      button.disabled = false;
      say(failText(err), true);
    }
    function addTo(id, before) {
      send('POST', colApi(id) + '/items', { pack: pack, lesson: lesson }, function (err, c) {
        var old;
        if (err) {
          fail(err);
          return;
        }
        button.disabled = false;
        old = sel.querySelector('option[value="' + c.id + '"]');
        if (old) sel.replaceChild(collectOption(c), old);
        else sel.insertBefore(collectOption(c), sel.firstChild);
        sel.value = String(c.id);
        setHidden(doc.getElementById('collect-pick'), false);
        collectChoice(sel);
        say([t(c.count === before ? 'alreadyIn' : 'addedTo', c.name) + ' ',
          h('a', { href: colPath(c.id), id: 'collect-link', 'data-test': 'collect-link', text: t('seeCollection') })]);
      });
    }
    if (button.disabled) return;
    say('');
    if (sel.value !== 'new') {
      opt = sel.options[sel.selectedIndex];
      button.disabled = true;
      addTo(sel.value, Number(opt.getAttribute('data-count')));
      return;
    }
    if (!name) {
      say(t('needCollectionName'), true);
      nameInput.focus();
      return;
    }
    button.disabled = true;
    send('POST', '/api/collections', { name: name }, function (err, c) {
      if (err) {
        fail(err);
        return;
      }
      nameInput.value = '';
      addTo(c.id, 0);
    });
  }

  /* /me/collections: the teacher's own collections, a form for a new one, and those that
     other teachers share. */
  function drawCollections() {
    view = { name: 'collections' };
    showSearchForm(true);
    if (doc.activeElement !== input) setInput('');
    main.setAttribute('data-view', 'collections');
    pageTitle(t('collections'));
    if (!needMe('/me/collections')) return;
    loadFresh('/api/collections', function (d) { drawCollectionList(d.collections || []); });
  }

  function colList(list, id, others) {
    var ul = h('ul', { 'class': 'my-list', id: id, 'data-test': id });
    var i, c;
    for (i = 0; i < list.length; i++) {
      c = list[i];
      ul.appendChild(h('li', { 'data-id': c.id }, [
        h('a', { href: colPath(c.id), text: c.name }),
        h('span', { 'class': 'my-pack', text: lessonsOf(c) + ' · ' + (others ? t('byOwner', c.owner) : t(c.shared ? 'isShared' : 'isPrivate')) })
      ]));
    }
    return ul;
  }

  function drawCollectionList(list) {
    var mine = [];
    var others = [];
    var i;
    for (i = 0; i < list.length; i++) (list[i].mine ? mine : others).push(list[i]);
    setMain([
      h('p', { 'class': 'back-row' }, h('a', { href: '/me', 'class': 'back', text: t('backMe') })),
      h('h1', { id: 'collections-heading', text: t('collections') }),
      h('section', { 'class': 'panel', 'aria-labelledby': 'my-col-heading' }, [
        h('h2', { id: 'my-col-heading', text: t('myCollections') }),
        mine.length ? colList(mine, 'my-collections', false) : h('p', { id: 'no-collections', text: t('noCollections') }),
        h('form', { id: 'new-collection-form', 'class': 'form new-collection' }, [
          h('div', { 'class': 'field' }, [
            h('label', { 'for': 'new-collection-name', text: t('newCollection') }),
            h('div', { 'class': 'input-row' }, [
              h('input', { type: 'text', id: 'new-collection-name', name: 'name', maxlength: 200, autocomplete: 'off', 'data-test': 'new-collection-name' }),
              h('button', { type: 'submit', 'class': 'button primary', id: 'new-collection-submit', text: t('create') })])]),
          h('div', { id: 'new-collection-error', role: 'alert' })
        ])
      ]),
      others.length ? h('section', { 'class': 'panel', 'aria-labelledby': 'shared-col-heading' }, [
        h('h2', { id: 'shared-col-heading', text: t('sharedWithMe') }),
        colList(others, 'shared-collections', true)]) : null
    ], 'ready');
  }

  function createCollection(f) {
    var name = trim(f.elements.name.value);
    var box = doc.getElementById('new-collection-error');
    var button = doc.getElementById('new-collection-submit');
    function say(text) {
      clear(box);
      box.className = text ? 'message error' : '';
      if (text) box.appendChild(h('p', { text: text }));
    }
    if (button.disabled) return;
    if (!name) {
      say(t('needCollectionName'));
      f.elements.name.focus();
      return;
    }
    say('');
    button.disabled = true;
    send('POST', '/api/collections', { name: name }, function (err, c) {
      button.disabled = false;
      if (err) say(failText(err));
      else go(colPath(c.id), { focus: true });
    });
  }

  /* /me/collections/ID: its lessons in order; its owner moves, removes, renames, shares,
     sends and deletes. Another teacher's shared collection is read-only. */
  function drawCollectionRoute(id) {
    var path = colPath(id);
    view = { name: 'collection', id: id };
    showSearchForm(true);
    if (doc.activeElement !== input) setInput('');
    main.setAttribute('data-view', 'collection');
    pageTitle(t('collections'));
    if (!needMe(path)) return;
    lastList = path;
    sessionSet('kho.last', lastList);
    loadFresh(colApi(id), function (c) { drawCollection(c); });
  }

  function itemTitle(it) {
    return it.title || it.pack + ' / ' + it.lesson;
  }

  /* Draw the collection c; note: what just changed (shown, and announced); focus: the
     selectors of the controls to focus, the first one that is there and enabled. */
  function drawCollection(c, note, focus) {
    var items = c.items || [];
    var mine = !!c.mine;
    var last = items.length - 1;
    var ol = h('ol', { 'class': 'col-items', id: 'collection-items', 'data-test': 'collection-items' });
    var i, it, title, el;
    view.c = c;
    pageTitle(c.name);
    for (i = 0; i < items.length; i++) {
      it = items[i];
      title = itemTitle(it);
      ol.appendChild(h('li', { 'class': 'col-item', 'data-test': 'collection-item', 'data-pack': it.pack, 'data-lesson': it.lesson }, [
        it.title ? h('a', { href: lessonUrl(it, it.pack, it.lesson), 'class': 'col-title', lang: packLangs[it.pack], text: it.title })
          : h('span', { 'class': 'col-title', text: title + ' ' + t('lessonGone') }),
        h('span', { 'class': 'my-pack', text: packTitle(it.pack) }),
        mine ? h('span', { 'class': 'col-tools' }, [
          h('button', { type: 'button', 'class': 'button small', 'data-move': '-1', 'data-index': i, disabled: i === 0,
            'aria-label': t('moveUpOf', title), text: t('moveUp') }),
          h('button', { type: 'button', 'class': 'button small', 'data-move': '1', 'data-index': i, disabled: i === last,
            'aria-label': t('moveDownOf', title), text: t('moveDown') }),
          h('button', { type: 'button', 'class': 'button small', 'data-remove-item': i,
            'aria-label': t('removeOf', title), text: t('removeItem') })]) : null
      ]));
    }
    setMain([
      h('p', { 'class': 'back-row' }, h('a', { href: '/me/collections', 'class': 'back', id: 'back-collections', text: t('backCollections') })),
      h('h1', { id: 'collection-name', 'data-test': 'collection-name', text: c.name }),
      h('p', { 'class': 'lesson-meta', id: 'collection-meta',
        text: lessonsOf({ count: items.length }) + ' · ' + (mine ? t(c.shared ? 'isShared' : 'isPrivate') : t('byOwner', c.owner)) }),
      mine ? null : h('p', { 'class': 'message', id: 'read-only', 'data-test': 'read-only', text: t('readOnly', c.owner) }),
      h('p', { 'class': 'form-note', id: 'collection-note', 'data-test': 'collection-note', text: note || '' }),
      items.length ? ol : h('p', { 'class': 'message', id: 'collection-empty', text: t('emptyCollection') }),
      h('section', { 'class': 'panel', 'aria-labelledby': 'col-out-heading' }, [
        h('h2', { id: 'col-out-heading', text: t('colOut') }),
        h('p', { 'class': 'col-actions' }, [
          h('a', { 'class': 'button', id: 'collection-download', 'data-test': 'collection-download',
            href: colApi(c.id) + '/export', download: true, text: t('download') }),
          mine ? ' ' : null,
          mine ? h('button', { type: 'button', 'class': 'button primary', id: 'send-centre', 'data-test': 'send-centre', text: t('sendCentre') }) : null]),
        h('p', { 'class': 'hint', text: t('downloadHint') }),
        mine ? h('p', { 'class': 'form-note', id: 'send-note', 'data-test': 'send-note', 'aria-live': 'polite' }) : null]),
      mine ? h('section', { 'class': 'panel', 'aria-labelledby': 'col-set-heading' }, [
        h('h2', { id: 'col-set-heading', text: t('colSettings') }),
        h('form', { id: 'rename-form', 'class': 'form' }, h('div', { 'class': 'field' }, [
          h('label', { 'for': 'rename-input', text: t('collectionName') }),
          h('div', { 'class': 'input-row' }, [
            h('input', { type: 'text', id: 'rename-input', name: 'name', value: c.name, maxlength: 200, autocomplete: 'off' }),
            h('button', { type: 'submit', 'class': 'button', id: 'rename-submit', text: t('rename') })])])),
        h('p', { 'class': 'share-row' }, [
          h('button', { type: 'button', 'class': 'button toggle', id: 'share-toggle', 'data-test': 'share-toggle', 'aria-pressed': c.shared ? 'true' : 'false' }, [
            h('span', { 'class': 'box', 'aria-hidden': 'true', text: c.shared ? '✓' : '' }), ' ' + t('share')]),
          h('span', { 'class': 'hint share-note', id: 'share-note', text: t(c.shared ? 'sharedNote' : 'privateNote') })]),
        h('p', {}, h('button', { type: 'button', 'class': 'button danger', id: 'delete-collection', 'data-test': 'delete-collection',
          'aria-expanded': 'false', 'aria-controls': 'delete-confirm', text: t('deleteCollection') })),
        h('div', { 'class': 'message error', id: 'delete-confirm', role: 'group', 'aria-labelledby': 'delete-ask', hidden: true }, [
          h('p', { 'class': 'strong', id: 'delete-ask', text: t('deleteAsk', c.name) }),
          h('p', {}, [h('button', { type: 'button', 'class': 'button danger', id: 'delete-yes', 'data-test': 'delete-yes', text: t('deleteYes') }), ' ',
            h('button', { type: 'button', 'class': 'button', id: 'delete-no', text: t('cancel') })])])]) : null
    ], 'ready');
    if (note) setStatus(note);
    for (i = 0; focus && i < focus.length; i++) {
      el = main.querySelector(focus[i]);
      if (el && !el.disabled) {
        el.focus();
        break;
      }
    }
  }

  /* A change to the collection drawn now: POST body, then draw it with note and focus. */
  function changeCollection(body, note, focus) {
    var id = view.id;
    if (view.busy) return;
    view.busy = true;
    send('POST', colApi(id), body, function (err, c) {
      if (view.name !== 'collection' || view.id !== id) return;
      view.busy = false;
      if (err) {
        doc.getElementById('collection-note').textContent = failText(err);
        setStatus(failText(err));
        return;
      }
      drawCollection(c, typeof note === 'function' ? note(c) : note, focus);
    });
  }

  function itemsBody(items) {
    var out = [];
    var i;
    for (i = 0; i < items.length; i++) out.push({ pack: items[i].pack, lesson: items[i].lesson });
    return { items: out };
  }

  function moveItem(i, dir) {
    var items = view.c.items.slice(0);
    var j = i + dir;
    var it = items[i];
    if (!it || j < 0 || j >= items.length) return;
    items[i] = items[j];
    items[j] = it;
    changeCollection(itemsBody(items), t('moved', itemTitle(it), j + 1),
      ['[data-move="' + dir + '"][data-index="' + j + '"]', '[data-move="' + -dir + '"][data-index="' + j + '"]']);
  }

  function removeItem(i) {
    var items = view.c.items.slice(0);
    var it = items.splice(i, 1)[0];
    if (!it) return;
    changeCollection(itemsBody(items), t('removed', itemTitle(it)),
      ['[data-remove-item="' + i + '"]', '[data-remove-item="' + (i - 1) + '"]', '#collection-name']);
  }

  function renameCollection(f) {
    var name = trim(f.elements.name.value);
    if (!name) {
      doc.getElementById('collection-note').textContent = t('needCollectionName');
      f.elements.name.focus();
      return;
    }
    changeCollection({ name: name }, t('renamed'), ['#rename-input']);
  }

  function toggleShare(btn) {
    var on = btn.getAttribute('aria-pressed') !== 'true';
    changeCollection({ shared: on }, t(on ? 'sharedNote' : 'privateNote'), ['#share-toggle']);
  }

  function sendToCentre(btn) {
    var id = view.id;
    var note = doc.getElementById('send-note');
    if (btn.disabled) return;
    btn.disabled = true;
    btn.textContent = t('sending');
    note.className = 'form-note';
    note.textContent = '';
    send('POST', colApi(id) + '/outbox', {}, function (err, d) {
      if (view.name !== 'collection' || view.id !== id) return;
      btn.disabled = false;
      btn.textContent = t('sendCentre');
      note.className = err ? 'form-note error' : 'form-note';
      note.textContent = err ? failText(err) : t('queued', d.queued);
    });
  }

  function askDelete(show) {
    var btn = doc.getElementById('delete-collection');
    setHidden(doc.getElementById('delete-confirm'), !show);
    btn.setAttribute('aria-expanded', show ? 'true' : 'false');
    (show ? doc.getElementById('delete-no') : btn).focus();
  }

  function deleteCollection() {
    var id = view.id;
    var name = view.c.name;
    if (view.busy) return;
    view.busy = true;
    send('DELETE', colApi(id), null, function (err) {
      if (view.name !== 'collection' || view.id !== id) return;
      view.busy = false;
      if (err) {
        doc.getElementById('collection-note').textContent = failText(err);
        return;
      }
      setStatus(t('deleted', name));
      go('/me/collections', { replace: true, focus: true });
    });
  }

  /* Clicks on the collections' controls; true when the click was one of them. */
  function collectionClick(b) {
    var id = b.id;
    if (id === 'collect-button') toggleCollect(b);
    else if (id === 'collect-close') closeCollect();
    else if (view.name !== 'collection' || !view.c) return false;
    else if (b.getAttribute('data-move')) moveItem(Number(b.getAttribute('data-index')), Number(b.getAttribute('data-move')));
    else if (b.getAttribute('data-remove-item')) removeItem(Number(b.getAttribute('data-remove-item')));
    else if (id === 'share-toggle') toggleShare(b);
    else if (id === 'send-centre') sendToCentre(b);
    else if (id === 'delete-collection') askDelete(b.getAttribute('aria-expanded') !== 'true');
    else if (id === 'delete-no') askDelete(false);
    else if (id === 'delete-yes') deleteCollection();
    else return false;
    return true;
  }

  /* ---- the school, for an administrator (docs/api.md "School") ---- */

  function loadSuggestions(done) {
    var my = seq;
    send('GET', '/api/school/suggestions', null, function (err, d) {
      var box = doc.getElementById('school-body');
      if (my !== seq || !box) return;
      clear(box);
      if (err) box.appendChild(h('p', { 'class': 'message error', text: failText(err) }));
      else drawSuggestions(box, d, done);
    });
  }

  function drawSuggestions(box, d, done) {
    var list = d.suggestions || [];
    var ul = h('ul', { 'class': 'suggest-list', id: 'suggest-list', 'data-test': 'suggest-list' });
    var i, k, s, about, g, sub;
    if (done) box.appendChild(h('p', { 'class': 'form-note', id: 'suggest-done', 'data-test': 'suggest-done', text: done }));
    if (!d.synced) {
      box.appendChild(h('p', { 'class': 'message', id: 'not-synced', 'data-test': 'not-synced', text: t('notSynced') }));
      return;
    }
    if (!list.length) {
      box.appendChild(h('p', { id: 'no-suggestions', 'data-test': 'no-suggestions', text: t('noSuggestions') }));
      return;
    }
    for (i = 0; i < list.length; i++) {
      s = list[i];
      sub = words(s.subjects);
      g = words(s.grades);
      about = [];
      for (k = 0; k < sub.length; k++) about.push(subjectName(sub[k]));
      for (k = 0; k < g.length; k++) about.push(gradeName(g[k]));
      about.push(plural('teachersWant', s.teachers || 0));
      ul.appendChild(h('li', {}, h('label', { 'class': 'check suggest' }, [
        h('input', { type: 'checkbox', name: 'pack', value: s.pack, 'data-test': 'suggestion-pack' }),
        h('span', {}, [h('span', { 'class': 'strong', text: s.title || s.pack }),
          h('span', { 'class': 'my-pack', text: s.pack + ' · ' + about.join(' · ') })])])));
    }
    append(box, [
      h('p', { 'class': 'hint', id: 'suggest-hint', text: t('suggestHint') }),
      h('form', { id: 'suggest-form', 'class': 'form', 'aria-labelledby': 'suggest-heading', 'aria-describedby': 'suggest-hint' }, [
        ul,
        h('p', { 'class': 'form-end' }, [
          h('button', { type: 'submit', 'class': 'button primary', id: 'suggest-accept', 'data-test': 'suggest-accept', text: t('accept') }),
          h('span', { 'class': 'form-note', id: 'suggest-note', 'aria-live': 'polite' })])])
    ]);
  }

  function acceptSuggestions(f) {
    var packs = checked(f, 'pack');
    var button = doc.getElementById('suggest-accept');
    var note = doc.getElementById('suggest-note');
    if (button.disabled) return;
    note.className = 'form-note';
    if (!packs.length) {
      note.className = 'form-note error';
      note.textContent = t('chooseSome');
      return;
    }
    button.disabled = true;
    send('POST', '/api/school/subscriptions', { packs: packs }, function (err, d) {
      button.disabled = false;
      if (err) {
        note.className = 'form-note error';
        note.textContent = failText(err);
        return;
      }
      setStatus(t('accepted', packs.length));
      loadSuggestions(t('accepted', packs.length));
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
    if (collectionClick(target)) return;
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
    } else if (f.id === 'collect-form') {
      e.preventDefault();
      submitCollect(f);
    } else if (f.id === 'new-collection-form') {
      e.preventDefault();
      createCollection(f);
    } else if (f.id === 'rename-form') {
      e.preventDefault();
      renameCollection(f);
    } else if (f.id === 'suggest-form') {
      e.preventDefault();
      acceptSuggestions(f);
    }
  });

  on(main, 'change', function (e) {
    if (e.target.id === 'collect-choice') collectChoice(e.target);
  });

  /* Escape closes the "add to collection" panel and the question before deleting. */
  on(main, 'keydown', function (e) {
    if (e.keyCode !== 27) return;
    if (closest(e.target, function (el) { return el.id === 'collect-panel'; })) closeCollect();
    else if (closest(e.target, function (el) { return el.id === 'delete-confirm'; })) askDelete(false);
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
      if (/^(signin|me|collections|collection)$/.test(view.name)) route();
      else if (view.name === 'home') showPersonal();
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
