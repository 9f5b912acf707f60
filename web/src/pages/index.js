// The dashboard's pages, in navigation order: the one place to add a page.
//   path:      the route, #/path
//   title:     navigation label, heading, document title
//   component: what renders it
//   icon:      an SVG path (24x24, stroked); kit's `icons` has a few
//   admin:     shown to admins only
import { icons } from '../kit/icons.js';
import { Overview } from './Overview.jsx';
import { Settings } from './Settings.jsx';
import { State } from './State.jsx';
import { Users } from './Users.jsx';
import { Firmware } from './Firmware.jsx';

export const pages = [
  { path: 'overview', title: 'Overview', component: Overview, icon: icons.home },
  { path: 'settings', title: 'Settings', component: Settings, icon: icons.sliders },
  { path: 'state', title: 'State', component: State, icon: icons.list },
  { path: 'users', title: 'Users', component: Users, icon: icons.users, admin: true },
  { path: 'firmware', title: 'Firmware', component: Firmware, icon: icons.download },
];
