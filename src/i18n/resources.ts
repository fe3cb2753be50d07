/*
 * Every text a customer or staff member can see, imported statically so the bundle works on Workers (no file
 * system). A new locale is a folder of files and one line per namespace here. A new namespace is one import line per locale here and a file in each locales/<lng>/ folder.
 */
import zhTWCommon from '../../locales/zh-TW/common.json';
import zhTWIntents from '../../locales/zh-TW/intents.json';
import zhTWWords from '../../locales/zh-TW/words.json';
import zhTWConsole from '../../locales/zh-TW/console.json';
import zhTWConsoleCustomers from '../../locales/zh-TW/console-customers.json';
import zhTWConsoleAdmin from '../../locales/zh-TW/console-admin.json';
import zhTWConsoleBooking from '../../locales/zh-TW/console-booking.json';
import zhTWBooking from '../../locales/zh-TW/booking.json';
import zhTWComplaint from '../../locales/zh-TW/complaint.json';
import zhTWConsoleComplaints from '../../locales/zh-TW/console-complaints.json';
import zhTWProgress from '../../locales/zh-TW/progress.json';
import zhTWConsoleRepairOrders from '../../locales/zh-TW/console-repair-orders.json';
import zhCNCommon from '../../locales/zh-CN/common.json';
import zhCNIntents from '../../locales/zh-CN/intents.json';
import zhCNWords from '../../locales/zh-CN/words.json';
import zhCNConsole from '../../locales/zh-CN/console.json';
import zhCNConsoleCustomers from '../../locales/zh-CN/console-customers.json';
import zhCNConsoleAdmin from '../../locales/zh-CN/console-admin.json';
import zhCNConsoleBooking from '../../locales/zh-CN/console-booking.json';
import zhCNBooking from '../../locales/zh-CN/booking.json';
import zhCNComplaint from '../../locales/zh-CN/complaint.json';
import zhCNConsoleComplaints from '../../locales/zh-CN/console-complaints.json';
import zhCNProgress from '../../locales/zh-CN/progress.json';
import zhCNConsoleRepairOrders from '../../locales/zh-CN/console-repair-orders.json';
import enCommon from '../../locales/en/common.json';
import enIntents from '../../locales/en/intents.json';
import enWords from '../../locales/en/words.json';
import enConsole from '../../locales/en/console.json';
import enConsoleCustomers from '../../locales/en/console-customers.json';
import enConsoleAdmin from '../../locales/en/console-admin.json';
import enConsoleBooking from '../../locales/en/console-booking.json';
import enBooking from '../../locales/en/booking.json';
import enComplaint from '../../locales/en/complaint.json';
import enConsoleComplaints from '../../locales/en/console-complaints.json';
import enProgress from '../../locales/en/progress.json';
import enConsoleRepairOrders from '../../locales/en/console-repair-orders.json';
import jaCommon from '../../locales/ja/common.json';
import jaIntents from '../../locales/ja/intents.json';
import jaWords from '../../locales/ja/words.json';
import jaConsole from '../../locales/ja/console.json';
import jaConsoleCustomers from '../../locales/ja/console-customers.json';
import jaConsoleAdmin from '../../locales/ja/console-admin.json';
import jaConsoleBooking from '../../locales/ja/console-booking.json';
import jaBooking from '../../locales/ja/booking.json';
import jaComplaint from '../../locales/ja/complaint.json';
import jaConsoleComplaints from '../../locales/ja/console-complaints.json';
import jaProgress from '../../locales/ja/progress.json';
import jaConsoleRepairOrders from '../../locales/ja/console-repair-orders.json';
import thCommon from '../../locales/th/common.json';
import thIntents from '../../locales/th/intents.json';
import thWords from '../../locales/th/words.json';
import thConsole from '../../locales/th/console.json';
import thConsoleCustomers from '../../locales/th/console-customers.json';
import thConsoleAdmin from '../../locales/th/console-admin.json';
import thConsoleBooking from '../../locales/th/console-booking.json';
import thBooking from '../../locales/th/booking.json';
import thComplaint from '../../locales/th/complaint.json';
import thConsoleComplaints from '../../locales/th/console-complaints.json';
import thProgress from '../../locales/th/progress.json';
import thConsoleRepairOrders from '../../locales/th/console-repair-orders.json';
import zhTWSurvey from '../../locales/zh-TW/survey.json';
import zhTWConsoleCsi from '../../locales/zh-TW/console-csi.json';
import zhCNSurvey from '../../locales/zh-CN/survey.json';
import zhCNConsoleCsi from '../../locales/zh-CN/console-csi.json';
import enSurvey from '../../locales/en/survey.json';
import enConsoleCsi from '../../locales/en/console-csi.json';
import jaSurvey from '../../locales/ja/survey.json';
import jaConsoleCsi from '../../locales/ja/console-csi.json';
import thSurvey from '../../locales/th/survey.json';
import thConsoleCsi from '../../locales/th/console-csi.json';
import type { Locale } from './locales';

export const NAMESPACES = ['common', 'intents', 'words', 'booking', 'console', 'console-customers', 'console-admin', 'console-booking', 'complaint', 'console-complaints', 'progress', 'console-repair-orders', 'survey', 'console-csi'] as const;
export type Namespace = (typeof NAMESPACES)[number];

export const resources: Record<Locale, Record<Namespace, Record<string, unknown>>> = {
  'zh-TW': { common: zhTWCommon, intents: zhTWIntents, words: zhTWWords, console: zhTWConsole, 'console-customers': zhTWConsoleCustomers, 'console-admin': zhTWConsoleAdmin, 'console-booking': zhTWConsoleBooking, booking: zhTWBooking, complaint: zhTWComplaint, 'console-complaints': zhTWConsoleComplaints, progress: zhTWProgress, 'console-repair-orders': zhTWConsoleRepairOrders, survey: zhTWSurvey, 'console-csi': zhTWConsoleCsi },
  'zh-CN': { common: zhCNCommon, intents: zhCNIntents, words: zhCNWords, console: zhCNConsole, 'console-customers': zhCNConsoleCustomers, 'console-admin': zhCNConsoleAdmin, 'console-booking': zhCNConsoleBooking, booking: zhCNBooking, complaint: zhCNComplaint, 'console-complaints': zhCNConsoleComplaints, progress: zhCNProgress, 'console-repair-orders': zhCNConsoleRepairOrders, survey: zhCNSurvey, 'console-csi': zhCNConsoleCsi },
  en: { common: enCommon, intents: enIntents, words: enWords, console: enConsole, 'console-customers': enConsoleCustomers, 'console-admin': enConsoleAdmin, 'console-booking': enConsoleBooking, booking: enBooking, complaint: enComplaint, 'console-complaints': enConsoleComplaints, progress: enProgress, 'console-repair-orders': enConsoleRepairOrders, survey: enSurvey, 'console-csi': enConsoleCsi },
  ja: { common: jaCommon, intents: jaIntents, words: jaWords, console: jaConsole, 'console-customers': jaConsoleCustomers, 'console-admin': jaConsoleAdmin, 'console-booking': jaConsoleBooking, booking: jaBooking, complaint: jaComplaint, 'console-complaints': jaConsoleComplaints, progress: jaProgress, 'console-repair-orders': jaConsoleRepairOrders, survey: jaSurvey, 'console-csi': jaConsoleCsi },
  th: { common: thCommon, intents: thIntents, words: thWords, console: thConsole, 'console-customers': thConsoleCustomers, 'console-admin': thConsoleAdmin, 'console-booking': thConsoleBooking, booking: thBooking, complaint: thComplaint, 'console-complaints': thConsoleComplaints, progress: thProgress, 'console-repair-orders': thConsoleRepairOrders, survey: thSurvey, 'console-csi': thConsoleCsi },
};
