/**
 * Enrollment as it happens in the field: the admin's dialog gives the code, a copyable link and a QR code of
 * that link; a marketer types the code on a phone with spaces and in lower case and it enrolls, and the device
 * says so; the link alone enrolls a second device.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../chaos/server-process.ts';
import { launchChromium } from './browser.ts';
import { poll, screenshot, waitReady } from './helpers.ts';

let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

async function adminNewCode(): Promise<{ code: string; link: string; qr: string | null; admin: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((token) => sessionStorage.setItem('jukebox-admin-token', token), server.adminToken);
  const admin = await context.newPage();
  admin.setDefaultTimeout(30_000);
  await admin.goto(`${server.url}/admin/#/devices`);
  await admin.getByRole('button', { name: 'New enrollment code' }).click();
  const share = admin.getByTestId('enroll-share');
  await share.getByTestId('enroll-link').waitFor();
  return {
    code: (await share.getByTestId('enroll-code').textContent())!,
    link: await share.getByTestId('enroll-link').inputValue(),
    qr: await share.getByRole('img', { name: /QR code/ }).getAttribute('src'),
    admin,
  };
}

describe('enrollment in the field', () => {
  it('admin dialog: code, copyable link and QR; a code typed with spaces in lower case enrolls and is confirmed', async () => {
    const { code, link, qr, admin } = await adminNewCode();
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(link).toBe(`${server.url}/?enroll=${code}`);
    expect(qr).toMatch(/^data:image\/png;base64,/);
    await screenshot(admin, 'enroll-admin-dialog', false);
    await admin.context().close();

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const phone = await context.newPage();
    phone.setDefaultTimeout(30_000);
    await phone.goto(server.url);
    await waitReady(phone, false);
    const panel = phone.getByTestId('enroll-panel');
    const typed = code
      .toLowerCase()
      .replaceAll('-', ' ')
      .replace(/(\w{2})(\w{2})/, '$1 $2');
    await panel.getByLabel('Enrollment code').fill(typed);
    await poll(() => panel.getByTestId('enroll-canonical').textContent()).toBe(`Sends ${code}`);
    await panel.getByRole('button', { name: 'Enroll' }).click();
    await phone.getByTestId('enrolled').waitFor();
    expect(await phone.getByTestId('enrolled').textContent()).toContain('This device is enrolled');
    await phone.getByTestId('enroll-panel').waitFor({ state: 'detached' });
    await screenshot(phone, 'enroll-phone-confirmed', false);
    await context.close();
  });

  it('the link from the dialog enrolls a device by itself', async () => {
    const { link, admin } = await adminNewCode();
    await admin.context().close();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await context.newPage();
    phone.setDefaultTimeout(30_000);
    await phone.goto(link);
    await phone.getByTestId('enrolled').waitFor();
    await poll(() => phone.getByTestId('sync-phase').count()).toBe(0);
    await context.close();
  });
});
