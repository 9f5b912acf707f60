// Appended to web/src/pages/index.js when the device is built (Makefile): the pump's
// page, second in the navigation, at #/pump
import { Pump } from './Pump.jsx';
pages.splice(1, 0, { path: 'pump', title: 'Pump', component: Pump, icon: icons.bolt });
