import type { Locale } from '../i18n/locales';

/*
 * The seven service types every dealership starts with, and the demo branch's bays. These are data a manager
 * edits in the console afterwards (names live in the database per locale, like the rest of the catalogue),
 * so they are defined once here for the seed rather than in the locale files.
 */

export interface StandardServiceType {
  code: string;
  durationMinutes: number;
  names: Record<Locale, string>;
}

/** In the order customers see them. Durations are the booked workshop time, not the whole visit. */
export const STANDARD_SERVICE_TYPES: readonly StandardServiceType[] = [
  {
    code: 'periodic_maintenance',
    durationMinutes: 60,
    names: { 'zh-TW': '定期保養', 'zh-CN': '定期保养', en: 'Scheduled service', ja: '定期点検', th: 'เช็กระยะตามกำหนด' },
  },
  {
    code: 'repair_diagnosis',
    durationMinutes: 90,
    names: { 'zh-TW': '維修診斷', 'zh-CN': '维修诊断', en: 'Repair / diagnosis', ja: '修理・故障診断', th: 'ซ่อม / ตรวจเช็กอาการ' },
  },
  {
    // A check of the car on request (noises, before a trip): the 30-minute slot, not the statutory inspection.
    code: 'inspection',
    durationMinutes: 30,
    names: { 'zh-TW': '車輛檢查', 'zh-CN': '车辆检查', en: 'Vehicle check', ja: '点検', th: 'ตรวจเช็กรถ' },
  },
  {
    // The inspection the law requires (ja 車検, zh-TW 驗車, zh-CN 年检): half a day of workshop time with the
    // paperwork, so it is a type of its own and never squeezed into a short check's slot.
    code: 'statutory_inspection',
    durationMinutes: 240,
    names: { 'zh-TW': '代辦驗車', 'zh-CN': '代办年检', en: 'Statutory inspection', ja: '車検', th: 'ตรวจสภาพรถประจำปี' },
  },
  {
    code: 'tyres_battery',
    durationMinutes: 45,
    names: { 'zh-TW': '輪胎與電瓶', 'zh-CN': '轮胎与电瓶', en: 'Tyres and battery', ja: 'タイヤ・バッテリー', th: 'ยางและแบตเตอรี่' },
  },
  {
    // The booked visit is the damage assessment with the insurer's paperwork; the repair itself is planned then.
    code: 'bodywork_claim',
    durationMinutes: 60,
    names: { 'zh-TW': '鈑金烤漆／保險理賠', 'zh-CN': '钣金喷漆／保险理赔', en: 'Bodywork & insurance', ja: '板金塗装・保険修理', th: 'งานสี / เคลมประกัน' },
  },
  {
    code: 'recall',
    durationMinutes: 60,
    names: { 'zh-TW': '召回檢修', 'zh-CN': '召回检修', en: 'Recall', ja: 'リコール', th: 'รีคอล (เรียกคืนรถ)' },
  },
];

const GENERAL_WORK = ['periodic_maintenance', 'repair_diagnosis', 'inspection', 'statutory_inspection', 'tyres_battery', 'recall'];

/** The demo branch's bays: three general workshop bays and a body shop bay. */
export const DEMO_BAYS: readonly { name: string; serviceTypes: readonly string[] }[] = [
  { name: 'Bay 1', serviceTypes: GENERAL_WORK },
  { name: 'Bay 2', serviceTypes: GENERAL_WORK },
  { name: 'Bay 3', serviceTypes: GENERAL_WORK },
  { name: 'Body shop', serviceTypes: ['bodywork_claim'] },
];
